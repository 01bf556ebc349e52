"""The shape of the code: layers that only look down, public interfaces, no import
cycles, thin pages, small modules.

Each checker is a plain function over a source tree, so a test can plant a violation
in a throwaway tree and see the checker catch it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Numerical libraries that belong to the engine, never to pages/ or ui/.
HEAVY = {"sklearn", "umap", "hnswlib", "scipy", "pynndescent", "hdbscan", "torch", "gensim"}
# The engine's layers, lowest first: a package may import its own modules and those of
# the packages before it, never one after it (docs/architecture.md says what each holds).
LAYERS = (
    "core",
    "index",
    "opened",
    "ingest",
    "maps",
    "cluster",
    "analysis",
    "render",
    "share",
    "train",
    "runtime",
    "scale",
    "cli",
    "api",
)
# Files allowed directly in explorer/: the package's facade and `python -m explorer`.
TOP_FILES = {"__init__.py", "__main__.py"}


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_nodes(path: Path, name: str) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import in `path`, lazy ones too."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, [a.name for a in node.names]))
    return out


def _imports(path: Path, name: str) -> set[str]:
    """Every module named by an import anywhere in `path` (lazy imports too)."""
    out: set[str] = set()
    for mod, names in _import_nodes(path, name):
        out.add(mod)
        out |= {f"{mod}.{n}" for n in names}
    return out


def _modules(root: Path, tops: tuple[str, ...]) -> dict[str, Path]:
    return {
        _module_name(p, root): p
        for top in tops
        if (root / top).exists()
        for p in (root / top).rglob("*.py")
    }


def _engine_graph(root: Path = ROOT) -> dict[str, set[str]]:
    mods = _modules(root, ("explorer",))
    graph = {}
    for name, path in mods.items():
        deps = {m for m in _imports(path, name) if m in mods and m != name}
        # A package's __init__ handing on its children's names is not a cycle.
        graph[name] = {
            d for d in deps if not d.startswith(name + ".") and not name.startswith(d + ".")
        }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u: str) -> None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                found.append(stack[stack.index(v) :] + [v])
            elif not state.get(v):
                visit(v)
        stack.pop()
        state[u] = 2

    for m in sorted(graph):
        if not state.get(m):
            visit(m)
    return found


def _layer(module: str) -> int | None:
    """The layer of an engine module (None for the package's own top files)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "explorer" or parts[1] in ("__main__",):
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else -1


def layer_violations(root: Path = ROOT) -> list[str]:
    """Every import in explorer/ that runs from a layer up to a higher one, names a
    package that is not a layer, or reaches the app (ui, pages, streamlit)."""
    bad = []
    for name, path in sorted(_modules(root, ("explorer",)).items()):
        me = _layer(name)
        if me == -1:
            bad.append(f"{name} is in no layer")
        for mod in sorted(_imports(path, name)):
            top = mod.split(".")[0]
            if top in ("ui", "pages", "streamlit"):
                bad.append(f"{name} imports {mod} (the app)")
                continue
            them = _layer(mod)
            if me is None or them is None:
                continue
            if them == -1 or them > me:
                bad.append(f"{name} imports {mod}, a higher layer")
    return bad


def private_imports(root: Path = ROOT) -> list[str]:
    """Every `_private` name one module takes from another of ours, by `from m import _x`
    or as `m._x` on a module it imported."""
    mods = _modules(root, ("explorer", "ui"))
    files = {**mods, **{_module_name(p, root): p for p in (root / "pages").glob("*.py")}}
    if (root / "app.py").exists():
        files["app"] = root / "app.py"
    private = re.compile(r"^_[^_]")
    bad = []
    for name, path in sorted(files.items()):
        aliases: dict[str, str] = {}
        for mod, names in _import_nodes(path, name):
            for n in names:
                if f"{mod}.{n}" in mods:
                    aliases[n] = f"{mod}.{n}"
                elif private.match(n) and mod in mods and mod != name:
                    bad.append(f"{name}: {n} from {mod}")
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in mods:
                        aliases[a.asname or a.name] = a.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and private.match(node.attr)
                and aliases[node.value.id] != name
            ):
                bad.append(f"{name}: {node.attr} of {aliases[node.value.id]}")
    return sorted(set(bad))


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_engine() -> None:
    assert _cycles(_engine_graph()) == []


def test_the_layer_check_finds_a_planted_violation(tmp_path: Path) -> None:
    root = _plant(
        tmp_path,
        {
            "explorer/__init__.py": "",
            "explorer/core/__init__.py": "",
            "explorer/core/a.py": "def f():\n    from explorer.maps.b import g\n",
            "explorer/maps/__init__.py": "",
            "explorer/maps/b.py": "from explorer.core.a import f\n",
            "explorer/render/c.py": "import streamlit\n",
            "explorer/misc/d.py": "",
        },
    )
    assert layer_violations(root) == [
        "explorer.core.a imports explorer.maps.b, a higher layer",
        "explorer.core.a imports explorer.maps.b.g, a higher layer",
        "explorer.misc.d is in no layer",
        "explorer.render.c imports streamlit (the app)",
    ]


def test_layers_only_look_down() -> None:
    assert layer_violations() == []


def test_the_private_check_finds_a_planted_violation(tmp_path: Path) -> None:
    root = _plant(
        tmp_path,
        {
            "explorer/__init__.py": "",
            "explorer/core/__init__.py": "",
            "explorer/core/a.py": "_x = 1\ny = _x\n",
            "explorer/core/b.py": "from explorer.core.a import _x, y\n",
            "explorer/core/c.py": "from explorer.core import a\nz = a._x + a.y\n",
            "ui/__init__.py": "",
            "ui/d.py": "import explorer.core.a as m\nw = m._x\n",
        },
    )
    assert private_imports(root) == [
        "explorer.core.b: _x from explorer.core.a",
        "explorer.core.c: _x of explorer.core.a",
        "ui.d: _x of explorer.core.a",
    ]


def test_no_module_takes_another_modules_private_names() -> None:
    assert private_imports() == []


def test_the_engine_shows_its_layers() -> None:
    top = {p.name for p in (ROOT / "explorer").iterdir() if p.suffix == ".py"}
    packages = {p.name for p in (ROOT / "explorer").iterdir() if (p / "__init__.py").exists()}
    assert top == TOP_FILES
    assert packages <= set(LAYERS)


@pytest.mark.parametrize("layer", LAYERS)
def test_each_package_names_its_public_interface(layer: str) -> None:
    init = ROOT / "explorer" / layer / "__init__.py"
    if not init.exists():
        pytest.skip(f"no package {layer}")
    tree = ast.parse(init.read_text())
    assert ast.get_docstring(tree), f"{init} says nothing of what the package holds"
    names = [
        n
        for n in tree.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)
    ]
    assert names, f"{init} has no __all__"


def test_pages_and_ui_import_no_numerical_library() -> None:
    bad = []
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "app.py"]:
        for mod in _imports(path, _module_name(path)):
            if mod.split(".")[0] in HEAVY:
                bad.append(f"{path.relative_to(ROOT)}: {mod}")
    assert bad == []


def test_every_engine_module_is_under_600_lines() -> None:
    big = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "explorer").rglob("*.py")
        if (n := len(p.read_text().splitlines())) >= 600
    }
    assert big == {}


def test_no_formatting_is_switched_off() -> None:
    marked = [
        f"{p.relative_to(ROOT)}:{i + 1}"
        for top in ("explorer", "ui", "pages", "tests", "bench")
        for p in (ROOT / top).rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines())
        if re.search(r"fmt:\s*(skip|off)", line) and p.name != "test_architecture.py"
    ]
    assert marked == []
