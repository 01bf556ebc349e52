"""Home's "where to start": what the open space shows best, in a few lines, for a
first-time visitor (a stakeholder in a demo has a minute, not an afternoon)."""

from __future__ import annotations

import streamlit as st

from explorer.core.safe_text import md
from explorer.ingest.samples import SAMPLES
from explorer.ingest.word_categories import COLUMN
from explorer.opened.handle import OpenedSpace
from explorer.render.map_style import default_colour
from ui import common
from ui.build_ui import build_sample_now

__all__ = ["NOUNS", "start_here"]

NOUNS = "wordnet-minilm"  # the sample whose map, coloured by category, tells a story


def _lines(opened: OpenedSpace) -> list[str]:
    space = opened.space
    colour = default_colour(space)
    if COLUMN in space.items.columns:
        return [
            "**Map**: each region is named by its most typical words, led by the WordNet "
            "category most of them share (person, location, food, …); colour it by "
            "`wordnet` to see the categories themselves.",
            "**Clusters**: how well the clusters agree with WordNet's categories (ARI, "
            "NMI), what each holds, and names of your own.",
            "**Analogies**: king − man + woman, and Google's analogy questions.",
        ]
    if colour != "cluster":
        return [
            f"**Map**: coloured by {md(colour)}; do the colours keep together?",
            f"**Clusters**: how well clusters found without labels agree with {md(colour)} "
            "(ARI, NMI).",
            "**Quality**: where the 2-D map bends the neighbourhoods.",
        ]
    return []


def start_here(opened: OpenedSpace, built: set[str]) -> None:
    """A short guide to the open space, and for word spaces the WordNet nouns sample."""
    lines = _lines(opened)
    if not lines:
        return
    st.markdown("**Where to start**\n" + "\n".join(f"- {line}" for line in lines))
    if COLUMN in opened.space.items.columns and opened.name != NOUNS and NOUNS in SAMPLES:
        sample = SAMPLES[NOUNS]
        st.caption(f"For a map coloured by meaning: {md(sample.title)}. {md(sample.description)}")
        label = f"Open {sample.title}" if NOUNS in built else f"Build and open {sample.title}"
        if st.button(label, key="start_nouns"):
            if NOUNS in built:
                common.set_active(common.spaces_root() / NOUNS)
                st.rerun()
            build_sample_now(NOUNS)
