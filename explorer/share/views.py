"""Views you can send and tours you can present: what a screen shows, as plain data.

A view records the space, the page, the map's parameters, the colouring, the
search, the selection and the probe, with a title and a caption. It travels in a URL's
query parameters (readable ones: ``?space=words&page=map&method=umap&colour=cluster``)
and a tour (an ordered list of views) as JSON, stored with its space. Both come from
untrusted hands, so reading one validates every field and bounds every size; a
malformed one gets a message that names what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from explorer.core.errors import ExplorerError, InputError
from explorer.core.manifest import verify_file
from explorer.core.store import atomic_write_bytes, check_space_name, digests, edit_manifest
from explorer.core.validate import check_text
from explorer.maps.projections import ProjectionParams
from explorer.opened.handle import OpenedSpace

__all__ = [
    "MAX_SELECTION",
    "PAGES",
    "Tour",
    "View",
    "list_tours",
    "load_tour",
    "make_view",
    "save_tour",
    "tour_from_json",
    "tour_to_json",
    "view_from_query",
    "view_to_query",
]

PAGES = ("map", "neighbours", "analogies", "clusters", "quality")
MAX_SELECTION = 2000  # ids in a selection
_MAX_VIEWS = 100  # views in a tour
MAX_TOURS = 100  # tours stored with one space
_MAX_TOUR_BYTES = 1 << 20
_PROBE_KEYS = ("a", "b", "c", "item")
_PROJECTION_KEYS = tuple(f.name for f in fields(ProjectionParams))


@dataclass(frozen=True)
class View:
    """One screen: a page of a space, as its settings (all small values)."""

    space: str
    page: str = "map"
    projection: dict[str, Any] = field(default_factory=dict)
    colour: str = ""
    search: str = ""
    selection: tuple[str, ...] = ()
    probe: dict[str, str] = field(default_factory=dict)
    title: str = ""
    caption: str = ""

    def params(self) -> ProjectionParams:
        """The map's parameters (defaults for what the view does not set)."""
        return ProjectionParams(**self.projection)


def _text(value: object, what: str) -> str:
    return check_text(value, f"The view's {what}")


def _projection(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Known projection fields, converted to their types and validated."""
    defaults = asdict(ProjectionParams())
    out: dict[str, Any] = {}
    for key in _PROJECTION_KEYS:
        if key not in raw or raw[key] in (None, ""):
            continue
        want = defaults[key]
        value = raw[key]
        try:
            if isinstance(want, bool):
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true")
            elif isinstance(want, int) or key == "n_epochs":
                value = int(value)
            elif isinstance(want, float):
                value = float(value)
            else:
                value = _text(value, key)
        except (TypeError, ValueError):
            raise InputError(
                f"The view's map setting {key}={str(value)[:40]!r} is not valid."
            ) from None
        out[key] = value
    ProjectionParams(**out).validate()
    return out


def make_view(data: Mapping[str, Any]) -> View:
    """A validated View from a mapping (a decoded URL or a tour's JSON entry)."""
    if not isinstance(data, Mapping):
        raise InputError("A view must be a set of named settings.")
    space = check_space_name(_text(data.get("space", ""), "space"))
    page = _text(data.get("page", "map"), "page")
    if page not in PAGES:
        raise InputError(f"Unknown page {page[:40]!r} in the view; use one of {', '.join(PAGES)}.")
    selection = data.get("selection", ())
    if isinstance(selection, str):
        selection = [s for s in selection.split(",") if s]
    if not isinstance(selection, list | tuple) or len(selection) > MAX_SELECTION:
        raise InputError(f"A view's selection is a list of at most {MAX_SELECTION:,} ids.")
    probe = data.get("probe", {})
    if not isinstance(probe, Mapping) or any(k not in _PROBE_KEYS for k in probe):
        raise InputError(f"A view's probe has the keys {', '.join(_PROBE_KEYS)} only.")
    projection = data.get("projection", {})
    if not isinstance(projection, Mapping):
        raise InputError("A view's map settings must be a set of named settings.")
    return View(
        space=space,
        page=page,
        projection=_projection(projection),
        colour=_text(data.get("colour", ""), "colour"),
        search=_text(data.get("search", ""), "search"),
        selection=tuple(_text(s, "selection") for s in selection),
        probe={k: _text(v, f"probe {k}") for k, v in probe.items()},
        title=_text(data.get("title", ""), "title"),
        caption=_text(data.get("caption", ""), "caption"),
    )


def view_to_query(view: View) -> dict[str, str]:
    """Readable URL query parameters of a view (defaults are left out)."""
    defaults = asdict(ProjectionParams())
    q: dict[str, str] = {"space": view.space, "page": view.page}
    q.update({k: str(v) for k, v in view.projection.items() if defaults.get(k) != v})
    for key in ("colour", "search", "title", "caption"):
        if getattr(view, key):
            q[key] = getattr(view, key)
    if view.selection:
        q["selection"] = ",".join(view.selection)
    q.update({f"probe_{k}": v for k, v in view.probe.items() if v})
    return q


def view_from_query(query: Mapping[str, Any]) -> View:
    """The view a URL's query parameters describe (see :func:`view_to_query`)."""
    q = {k: (v[-1] if isinstance(v, list) else v) for k, v in query.items()}
    return make_view(
        {
            "space": q.get("space", ""),
            "page": q.get("page", "map"),
            "projection": {k: q[k] for k in _PROJECTION_KEYS if k in q},
            "colour": q.get("colour", ""),
            "search": q.get("search", ""),
            "selection": q.get("selection", ""),
            "probe": {k[6:]: q[k] for k in q if k.startswith("probe_")},
            "title": q.get("title", ""),
            "caption": q.get("caption", ""),
        }
    )


@dataclass(frozen=True)
class Tour:
    """An ordered list of views with captions, for presenting."""

    title: str
    views: tuple[View, ...]


def tour_to_json(tour: Tour) -> bytes:
    body = {"title": tour.title, "views": [asdict(v) for v in tour.views]}
    return json.dumps({"tour": body, "format": 1}, indent=2).encode()


def tour_from_json(data: bytes) -> Tour:
    """A validated tour from JSON bytes; InputError naming what is wrong otherwise."""
    if len(data) > _MAX_TOUR_BYTES:
        raise InputError(f"The tour file is larger than {_MAX_TOUR_BYTES // 1024} KB.")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InputError(
            "The tour file is not JSON. Export a tour from this app to see its form."
        ) from None
    body = doc.get("tour") if isinstance(doc, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("views"), list):
        raise InputError('A tour file holds {"tour": {"title": …, "views": [ … ]}}.')
    if not body["views"] or len(body["views"]) > _MAX_VIEWS:
        raise InputError(f"A tour has 1 to {_MAX_VIEWS} views.")
    views = []
    for i, raw in enumerate(body["views"], start=1):
        try:
            views.append(make_view(raw))
        except InputError as exc:
            raise InputError(f"View {i} of the tour: {exc}") from None
    return Tour(title=_text(body.get("title", ""), "tour title"), views=tuple(views))


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
    return slug or "tour"


def _version(opened: OpenedSpace) -> Path:
    if opened.version is None:
        raise InputError("Tours are stored with a saved space: save the space first.")
    return opened.version


def save_tour(opened: OpenedSpace, tour: Tour) -> str:
    """Store `tour` with the space `opened` (``tours/<slug>.json``, checksummed in its
    manifest); returns its name. A tour of the same name is replaced."""
    if not tour.views:
        raise InputError("A tour needs at least one view: add the current view first.")
    data = tour_to_json(tour)
    tour_from_json(data)  # the limits an import applies, so a saved tour opens again
    folder = _version(opened)
    name = _slug(tour.title)
    rel = f"tours/{name}.json"
    with edit_manifest(folder) as man:
        held = [f for f in man["files"] if f.startswith("tours/")]
        if rel not in held and len(held) >= MAX_TOURS:
            raise InputError(
                f"This space holds {MAX_TOURS} tours already: replace one (save under its "
                "title), or ask the operator to rebuild the space."
            )
        atomic_write_bytes(folder / rel, data)
        man["files"].update(digests(folder, [rel]))
    return name


def list_tours(opened: OpenedSpace) -> list[str]:
    """Names of the tours stored with the space `opened`."""
    try:
        files = opened.manifest()["files"]
    except ExplorerError:
        return []
    return sorted(f[len("tours/") : -len(".json")] for f in files if f.startswith("tours/"))


def load_tour(opened: OpenedSpace, name: str) -> Tour:
    """A stored tour, checked against its checksum and validated like an import."""
    folder = _version(opened)
    rel = f"tours/{_slug(name)}.json"
    man = opened.manifest()
    if rel not in man["files"]:
        raise InputError(f"This space has no tour named {name[:60]!r}.")
    try:
        verify_file(folder, rel, man["files"][rel], opened.name)
    except ExplorerError:
        raise InputError(
            f"The tour {name[:60]!r} was changed outside the app or is damaged. "
            "Import it again from its exported file."
        ) from None
    return tour_from_json((folder / rel).read_bytes())
