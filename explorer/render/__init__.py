"""Pictures of a space: colours (``colours``), scatter maps of every point (``scatter``),
zoomed windows and density pictures of big maps (``window_maps``, ``density``), which view a
map gets (``map_figure``), the colours and names a view gives it (``map_style``), names
placed on the map (``labels``), probe figures
(``probe_figures``), and exports: tables, PNG, SVG, HTML and projector bundles
(``tables``, ``raster``, ``svg``, ``export``, ``projector``).
"""

__all__ = [
    "colours",
    "density",
    "export",
    "labels",
    "map_figure",
    "map_style",
    "probe_figures",
    "projector",
    "raster",
    "scatter",
    "svg",
    "tables",
    "window_maps",
]
