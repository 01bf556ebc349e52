"""Make user text inert where it is shown or downloaded: markdown, plotly labels, CSV.

Every browser user is untrusted and data one of them uploads is shown to others, so an
item's text, a column name or a cluster label must render as the characters it holds:

- :func:`md` for Streamlit markdown (``st.markdown``, captions, subheaders, metric and
  widget labels, ``help`` tooltips, alerts);
- :func:`plot_text` for plotly strings (hover labels, trace and legend names, titles,
  colour-bar titles, axis categories), which plotly.js reads as a subset of HTML;
- :func:`csv_safe` / :func:`to_csv_bytes` for CSV downloads, where a spreadsheet would
  run a cell that starts like a formula.

Plain Python, no Streamlit.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["FORMULA_START", "csv_safe", "formula_safe", "md", "plot_text", "to_csv_bytes"]

# Markdown (CommonMark + GFM + Streamlit's extensions) is parsed first, and a backslash
# before ASCII punctuation makes that character literal. Escaped: the characters that
# open or close an inline construct anywhere in a line: `[` `]` links, images, footnotes;
# `<` `>` HTML and autolinks; `*` `_` `~` emphasis and strikethrough; backtick code; `$`
# LaTeX; `:` directives (`:red[…]`, `:small[…]`); `&` entities; `{` `}` directive
# attributes; `|` tables; `#` headings; `!` images; `\` itself (so the text cannot escape
# what follows it). Left alone, being inert mid-line once those are escaped: ( ) - + . ,
# ; = ? ' " / % ^ @ (a block start is handled below, `@` and `www.` by the word joiner).
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]<>#|~$:&!])")
# Only a line's start makes a block, and md() output may be placed at one: a list item
# (`- x`, `+ x`, `1. x`, `1) x`) or a setext underline (`=`). Newlines are gone already.
_MD_BLOCK_START = re.compile(r"^(\s*)(?:([-+=])|(\d+)([.)]))")
_NEWLINES = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")
# After parsing, Streamlit and remark rewrite the *text* (escapes already undone) by
# pattern: `:material_x:` icons, `:streamlit:` logo, `:smile:` emoji, and GFM turns bare
# `https://…`, `www.…` and `a@b.c` into links. A word joiner (U+2060: invisible, zero
# width, no break) after the `:`, inside `www.` and after `@` keeps each pattern from
# matching, so none of them can form.
_WJ = "\u2060"
_TEXT_PATTERNS = re.compile(r"(?<=:)(?=[\w/+\-])|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)

# plotly.js splits a label at `<…>` tags and decodes entities in the rest (as text).
_PLOT_SPECIAL = re.compile("[&<>%]")
_PLOT_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "%": "&#37;"})

# A spreadsheet runs a cell that starts with one of these (OWASP: CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md(text: object) -> str:
    """`text` escaped for Streamlit markdown: it renders as the characters it holds.

    Links, images, HTML, colour directives, icons, emoji, LaTeX and bare-URL links
    cannot form, and newlines become spaces so the text cannot start a heading, list,
    quote or table. Use it on the user part of a string only:
    ``st.markdown(f"**Neighbours of {md(item)}**")``.
    """
    s = _NEWLINES.sub(" ", str(text))
    s = _TEXT_PATTERNS.sub(_WJ, s)
    s = _MD_PUNCT.sub(r"\\\1", s)
    return _MD_BLOCK_START.sub(_escape_block_start, s, count=1)


def _escape_block_start(m: re.Match[str]) -> str:
    lead, sign, digits, dot = m.groups()
    return lead + ("\\" + sign if sign else digits + "\\" + dot)


def plot_text(text: object) -> str:
    """`text` escaped for a plotly label, which plotly.js reads as a subset of HTML.

    ``&``, ``<`` and ``>`` become entities, so no tag (``<a href>``, ``<b>``, ``<br>``…)
    or entity can form; plotly shows the entities as the characters. Quotes matter only
    inside a tag, so they stay. ``%`` becomes ``&#37;`` (shown as ``%``) so a label
    placed in a hover template cannot pull in ``%{…}`` variables.
    """
    s = str(text)
    if _PLOT_SPECIAL.search(s) is None:  # the common case, fast on 100k hover labels
        return s
    return s.translate(_PLOT_ENTITIES)


def formula_safe(value: object) -> object:
    """`value` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cannot run as a spreadsheet formula.

    Every string cell and column name that starts with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return gets a leading ``'``. Numbers stay numbers: a negative number
    is not a formula.
    """
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out.isetitem(i, col.map(formula_safe))
    out.columns = pd.Index([formula_safe(c) for c in out.columns])
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """`df` as UTF-8 CSV bytes (no index) made safe by :func:`csv_safe`, for downloads.

    Lines end in CRLF (RFC 4180), so a cell holding a carriage return is quoted too: left
    bare, a spreadsheet would start a new row there, and the rest of the cell (say
    ``=HYPERLINK(…)``) would become a cell of its own that escaped the prefix.
    """
    text: str = csv_safe(df).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8")
