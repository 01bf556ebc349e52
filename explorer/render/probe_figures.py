"""Figures of probes: the arithmetic of an analogy, and accuracy per benchmark section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.core.safe_text import plot_text
from explorer.render.colours import PALETTE

if TYPE_CHECKING:
    from explorer.analysis.probes import AnalogyLayout

__all__ = ["analogy_figure", "section_bars"]


def analogy_figure(layout: AnalogyLayout) -> Any:
    """Draw an analogy layout: its points coloured by role, its offsets as arrows.

    Args:
        layout: from :func:`explorer.analysis.probes.analogy_layout` (positions, roles, arrows).
    """
    import plotly.graph_objects as go

    xy, words, roles = layout.xy, layout.words, layout.roles
    colours = {"plus": "#4E79A7", "minus": "#E15759", "answer": "#59A14F"}
    fig = go.Figure()
    for a, b in layout.arrows:
        fig.add_annotation(
            x=float(xy[b, 0]),
            y=float(xy[b, 1]),
            ax=float(xy[a, 0]),
            ay=float(xy[a, 1]),
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowwidth=2,
            arrowcolor="#888888",
            opacity=0.8,
        )
    for role, colour in colours.items():
        idx = [i for i, r in enumerate(roles) if r == role]
        if idx:
            fig.add_trace(
                go.Scatter(
                    x=xy[idx, 0],
                    y=xy[idx, 1],
                    mode="markers+text",
                    name=role,
                    text=[plot_text(words[i]) for i in idx],
                    textposition="top center",
                    marker={"size": 12, "color": colour},
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    fig.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="The probe in a PCA of just these words",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    return fig


def section_bars(sections: dict[str, tuple[float, int]]) -> Any:
    """Horizontal bars of accuracy per section; values are (accuracy 0..1, questions)."""
    import plotly.graph_objects as go

    names = list(sections)
    acc = [sections[n][0] * 100 for n in names]
    fig = go.Figure(
        go.Bar(
            x=acc,
            y=[plot_text(n) for n in names],  # section names come from an uploaded file
            orientation="h",
            marker_color=PALETTE[0],
            text=[f"{a:.1f}% of {sections[n][1]:,}" for a, n in zip(acc, names, strict=True)],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        height=max(240, 28 * len(names) + 60),
        xaxis_title="accuracy (%)",
        xaxis_range=[0, 100],
        yaxis_autorange="reversed",
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )
    return fig
