"""Pictures of a space: plotly figures (``figures``), density pictures of big maps
(``density``), which view a map gets (``map_figure``), names placed on the map
(``labels``), and exports (``export``, ``svg``).
"""

__all__ = [
    "density",
    "export",
    "figures",
    "labels",
    "map_figure",
    "svg",
]
