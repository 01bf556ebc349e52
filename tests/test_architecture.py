"""The shape of the code: no import cycles in the engine, thin pages, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "explorer"
# Numerical libraries that belong to the engine, never to pages/ or ui/.
HEAVY = {"sklearn", "umap", "hnswlib", "scipy", "pynndescent", "hdbscan", "torch", "gensim"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every module named by an import anywhere in `path` (lazy imports too)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
    return out


def _engine_graph() -> dict[str, set[str]]:
    mods = {_module_name(p): p for p in ENGINE.rglob("*.py")}
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


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_engine() -> None:
    graph = _engine_graph()
    assert _cycles(graph) == []


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
        for p in ENGINE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) >= 600
    }
    assert big == {}


def test_streamlit_is_imported_by_one_engine_module() -> None:
    users = sorted(
        _module_name(p)
        for p in ENGINE.rglob("*.py")
        if any(m.split(".")[0] == "streamlit" for m in _imports(p, _module_name(p)))
    )
    assert users == ["explorer.ui_cache"]
