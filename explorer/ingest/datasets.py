"""Labelled data sets installed with Debian packages: WordNet nouns, fortunes, Fashion-MNIST.

Each reader parses the installed files directly (no network, no pickles) and holds every
read to a byte cap: files larger than a sane size for the data set are refused before
they are read, and compressed files are decoded only as far as their headers say.
A missing package raises an :class:`~explorer.core.errors.InputError` that names what to
install, never a server path.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.core.errors import InputError
from explorer.core.limits import limits

__all__ = [
    "FASHION_CLASSES",
    "FASHION_DIR",
    "FORTUNES_DIR",
    "LEXNAMES",
    "WORDNET_DIR",
    "fashion_mnist",
    "fortunes",
    "wordnet_exceptions",
    "wordnet_lexnames",
    "wordnet_nouns",
]

WORDNET_DIR = Path("/usr/share/wordnet")
FORTUNES_DIR = Path("/usr/share/games/fortunes")
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

# WordNet 3.0's lexicographer files, by number (the "lexnames" file of the distribution).
LEXNAMES: tuple[str, ...] = (
    "adj.all",
    "adj.pert",
    "adv.all",
    "noun.Tops",
    "noun.act",
    "noun.animal",
    "noun.artifact",
    "noun.attribute",
    "noun.body",
    "noun.cognition",
    "noun.communication",
    "noun.event",
    "noun.feeling",
    "noun.food",
    "noun.group",
    "noun.location",
    "noun.motive",
    "noun.object",
    "noun.person",
    "noun.phenomenon",
    "noun.plant",
    "noun.possession",
    "noun.process",
    "noun.quantity",
    "noun.relation",
    "noun.shape",
    "noun.state",
    "noun.substance",
    "noun.time",
    "verb.body",
    "verb.change",
    "verb.cognition",
    "verb.communication",
    "verb.competition",
    "verb.consumption",
    "verb.contact",
    "verb.creation",
    "verb.emotion",
    "verb.motion",
    "verb.perception",
    "verb.possession",
    "verb.social",
    "verb.stative",
    "verb.weather",
    "adj.ppl",
)

FASHION_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_MB = 1 << 20
# WordNet 3.0's largest file (data.noun) is 15 MB, a fortune file under 1 MB and
# Fashion-MNIST's training images decode to 47 MB: anything far larger is not them.
_MAX_WORDNET_BYTES = 64 * _MB
_MAX_FORTUNE_BYTES = 16 * _MB
_MAX_IDX_BYTES = 128 * _MB
_FORTUNE_SEPARATOR = re.compile(r"^%[ \t]*$", re.MULTILINE)


def _read_capped(path: Path, cap: int, what: str) -> bytes:
    """The bytes of `path`, refused past `cap` bytes (and the operator's file limit)."""
    most = min(cap, limits().max_file_bytes)
    size = path.stat().st_size
    if size > most:
        raise InputError(
            f"The {what} file '{path.name}' is {size:,} bytes, more than the {most:,} "
            "it can be; the installation looks damaged. Ask the operator to reinstall it."
        )
    return path.read_bytes()


def _need(root: Path, files: tuple[str, ...], what: str, package: str) -> None:
    """Raise an InputError naming `package` when any of `files` is missing under `root`."""
    if not all((root / f).is_file() for f in files):
        raise InputError(
            f"{what} is not installed on this server. Ask the operator to install "
            f"{package}, then try again."
        )


# --------------------------------------------------------------------------- WordNet


def _tag_counts(text: str, name: str) -> dict[str, tuple[int, int, list[str]]]:
    """lemma → (senses, tagged sense count, synset offsets best first) of an index.* file.

    A line is ``lemma pos synset_cnt p_cnt [ptr...] sense_cnt tagsense_cnt offset...``;
    licence lines start with two spaces.
    """
    out: dict[str, tuple[int, int, list[str]]] = {}
    for no, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("  "):
            continue
        f = line.split()
        try:
            n_syn, n_ptr = int(f[2]), int(f[3])
            tagged, offsets = int(f[5 + n_ptr]), f[6 + n_ptr : 6 + n_ptr + n_syn]
        except (IndexError, ValueError):
            raise _damaged(name, no) from None
        if len(offsets) != n_syn:
            raise _damaged(name, no)
        out[f[0]] = (n_syn, tagged, offsets)
    return out


def _damaged(name: str, line: int) -> InputError:
    return InputError(
        f"WordNet's file {name} is damaged (line {line} does not parse). "
        "Ask the operator to reinstall wordnet-base."
    )


def _synsets(text: str, name: str = "data.noun") -> dict[str, tuple[int, str]]:
    """offset → (lexicographer file number, definition) of a data.* file.

    A line is ``offset lex_filenum ss_type w_cnt word lex_id ... | gloss``; the
    definition is the gloss up to its first quoted example.
    """
    out: dict[str, tuple[int, str]] = {}
    for no, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("  "):
            continue
        head, _, gloss = line.partition(" | ")
        f = head.split(" ", 2)
        try:
            lexfile = int(f[1])
            LEXNAMES[lexfile]
        except (IndexError, ValueError):
            raise _damaged(name, no) from None
        definition = gloss.split('; "', 1)[0].strip().rstrip(";").strip()
        out[f[0]] = (lexfile, definition)
    return out


def wordnet_nouns(root: Path | None = None) -> pd.DataFrame:
    """Every noun lemma of WordNet with its most frequent sense.

    Returns:
        One row per lemma (index.noun order, alphabetical): ``lemma`` (underscores as
        spaces, lower case), ``category`` (the lexicographer file of the first sense,
        e.g. ``noun.animal``), ``gloss`` (that sense's definition), ``synset`` (its
        8-digit offset), ``senses`` (noun senses), ``tagged`` (noun senses' count in
        the SemCor corpus) and ``other_tagged`` (the same for the verb, adjective and
        adverb senses of that spelling: a lemma mostly used as another part of speech
        has ``other_tagged > tagged``).

    Raises:
        InputError: WordNet (Debian package wordnet-base) is not installed, or damaged.
    """
    root = WORDNET_DIR if root is None else Path(root)
    files = ("data.noun", "index.noun", "index.verb", "index.adj", "index.adv")
    _need(root, files, "WordNet", "the Debian package wordnet-base")

    def text(name: str) -> str:
        return _read_capped(root / name, _MAX_WORDNET_BYTES, "WordNet").decode("utf-8", "replace")

    synsets = _synsets(text("data.noun"))
    other: Counter[str] = Counter()
    for pos in ("verb", "adj", "adv"):
        for lemma, (_, tagged, _) in _tag_counts(text(f"index.{pos}"), f"index.{pos}").items():
            other[lemma] += tagged
    rows = []
    for lemma, (n_syn, tagged, offsets) in _tag_counts(text("index.noun"), "index.noun").items():
        first = synsets.get(offsets[0])
        if first is None:
            raise InputError(
                f"WordNet's index names synset {offsets[0]} (for {lemma!r}) that data.noun "
                "lacks. Ask the operator to reinstall wordnet-base."
            )
        lexfile, gloss = first
        rows.append(
            (
                lemma.replace("_", " "),
                LEXNAMES[lexfile],
                gloss,
                offsets[0],
                n_syn,
                tagged,
                other[lemma],
            )
        )
    cols = ["lemma", "category", "gloss", "synset", "senses", "tagged", "other_tagged"]
    return pd.DataFrame(rows, columns=cols)


POS_ORDER = ("noun", "verb", "adj", "adv")  # a tie in tagged counts goes to the first


def wordnet_lexnames(root: Path | None = None) -> dict[str, str]:
    """Every WordNet lemma → the lexicographer file of its most frequent sense.

    The part of speech whose senses are tagged most often in SemCor (WordNet's own
    counts) wins, ties going to the first of :data:`POS_ORDER`; within it, the first
    sense. Lemmas are lower case with underscores as spaces (``ice cream``).

    Raises:
        InputError: WordNet (Debian package wordnet-base) is not installed, or damaged.
    """
    root = WORDNET_DIR if root is None else Path(root)
    files = tuple(f"{kind}.{pos}" for pos in POS_ORDER for kind in ("data", "index"))
    _need(root, files, "WordNet", "the Debian package wordnet-base")
    best: dict[str, tuple[int, str]] = {}  # lemma → (tagged count, lexname)
    for pos in POS_ORDER:
        data = _read_capped(root / f"data.{pos}", _MAX_WORDNET_BYTES, "WordNet")
        synsets = _synsets(data.decode("utf-8", "replace"), f"data.{pos}")
        index = _read_capped(root / f"index.{pos}", _MAX_WORDNET_BYTES, "WordNet")
        counts = _tag_counts(index.decode("utf-8", "replace"), f"index.{pos}")
        for lemma, (_, tagged, offsets) in counts.items():
            first = synsets.get(offsets[0])
            if first is None:
                raise InputError(
                    f"WordNet's index.{pos} names synset {offsets[0]} that data.{pos} lacks. "
                    "Ask the operator to reinstall wordnet-base."
                )
            held = best.get(lemma)
            if held is None or tagged > held[0]:
                best[lemma] = (tagged, LEXNAMES[first[0]])
    return {lemma.replace("_", " "): name for lemma, (_, name) in best.items()}


def wordnet_exceptions(root: Path | None = None) -> dict[str, list[str]]:
    """WordNet's irregular forms → their lemmas (``mice`` → ``mouse``), every part of
    speech (the *.exc files; a missing one gives none)."""
    root = WORDNET_DIR if root is None else Path(root)
    out: dict[str, list[str]] = {}
    for pos in POS_ORDER:
        path = root / f"{pos}.exc"
        if not path.is_file():
            continue
        text = _read_capped(path, _MAX_WORDNET_BYTES, "WordNet").decode("utf-8", "replace")
        for line in text.splitlines():
            form, *lemmas = line.split()
            if lemmas:
                out.setdefault(form, []).extend(lemmas)
    return out


# --------------------------------------------------------------------------- fortunes


def fortunes(root: Path | None = None, topics: list[str] | None = None) -> pd.DataFrame:
    """The fortune cookies of each topic file, in file order.

    Files are the plain topic files (``computers``, ``food``, ...); the ``.dat`` indexes,
    ``.u8`` links and sub-folders (``off/``, the offensive ones) are never read. Entries
    are separated by lines holding only ``%``.

    Args:
        topics: topic files to read (default all); an unknown one raises.

    Returns:
        Columns ``topic`` (the file's name) and ``text`` (the entry, stripped).

    Raises:
        InputError: the fortunes (Debian package fortunes) are not installed.
    """
    root = FORTUNES_DIR if root is None else Path(root)
    if not root.is_dir():
        raise InputError(
            "The fortune cookies are not installed on this server. Ask the operator to "
            "install the Debian package fortunes, then try again."
        )
    available = sorted(
        p.name for p in root.iterdir() if p.is_file() and not p.is_symlink() and "." not in p.name
    )
    if not available:
        _need(root, ("fortunes",), "The fortune cookies", "the Debian package fortunes")
    wanted = available if topics is None else list(topics)
    unknown = [t for t in wanted if t not in available]
    if unknown:
        raise InputError(
            f"No fortune topic {', '.join(map(repr, unknown))}. Topics: {', '.join(available)}."
        )
    rows: list[tuple[str, str]] = []
    for topic in wanted:
        raw = _read_capped(root / topic, _MAX_FORTUNE_BYTES, "fortune")
        for entry in _FORTUNE_SEPARATOR.split(raw.decode("utf-8", "replace")):
            entry = entry.strip()
            if entry:
                rows.append((topic, entry))
        if len(rows) > limits().max_rows:
            raise InputError("The fortunes have more entries than this server's row limit.")
    return pd.DataFrame(rows, columns=["topic", "text"])


# --------------------------------------------------------------------------- Fashion-MNIST


def _read_idx(path: Path, limit: int | None) -> np.ndarray:
    """The uint8 array of a gzipped idx file (the MNIST format), its first `limit` items.

    Header: two zero bytes, the type (0x08 = unsigned byte), the number of dimensions,
    then each dimension as a big-endian uint32. Only the bytes the header promises
    (for `limit` items) are decoded.
    """
    size = path.stat().st_size
    if size > _MAX_IDX_BYTES:
        raise InputError(f"Fashion-MNIST's file '{path.name}' is too large to be the data set.")
    with gzip.open(path, "rb") as fh:
        head = fh.read(4)
        if len(head) != 4 or head[:3] != b"\x00\x00\x08" or not 1 <= head[3] <= 4:
            raise InputError(f"Fashion-MNIST's file '{path.name}' is not an idx file of bytes.")
        dims = list(np.frombuffer(fh.read(4 * head[3]), dtype=">u4").astype(np.int64))
        if len(dims) != head[3]:
            raise InputError(f"Fashion-MNIST's file '{path.name}' ends inside its header.")
        if limit is not None:
            dims[0] = min(dims[0], max(0, int(limit)))
        want = int(np.prod(dims))
        if want > _MAX_IDX_BYTES:
            raise InputError(f"Fashion-MNIST's file '{path.name}' claims {want:,} bytes of data.")
        data = fh.read(want)
    if len(data) != want:
        raise InputError(f"Fashion-MNIST's file '{path.name}' is shorter than its header says.")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def fashion_mnist(
    split: str = "test", limit: int | None = None, root: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images and their classes.

    Args:
        split: ``test`` (10,000 images) or ``train`` (60,000).
        limit: only the first `limit` images.

    Returns:
        (images (n, 28, 28) uint8, labels (n,) int64 in 0..9, see :data:`FASHION_CLASSES`).

    Raises:
        InputError: the data set is not installed, damaged, or `split` is unknown.
    """
    if split not in ("test", "train"):
        raise InputError(f"Fashion-MNIST has a 'test' and a 'train' split, not {split!r}.")
    root = FASHION_DIR if root is None else Path(root)
    stem = "t10k" if split == "test" else "train"
    names = (f"{stem}-images-idx3-ubyte.gz", f"{stem}-labels-idx1-ubyte.gz")
    _need(root, names, "Fashion-MNIST", "the Fashion-MNIST data set (its idx .gz files)")
    images = _read_idx(root / names[0], limit)
    labels = _read_idx(root / names[1], limit)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise InputError("Fashion-MNIST's image and label files do not match.")
    if labels.size and labels.max() >= len(FASHION_CLASSES):
        raise InputError("Fashion-MNIST's label file holds a class past 9.")
    return images, labels.astype(np.int64)
