"""The server's modules import each other in one direction: no cycle, and no import hidden in a
function to dodge one (every ``buybutton_server`` import is at the top of its module)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import buybutton_server

ROOT = Path(buybutton_server.__file__).parent
PACKAGE = "buybutton_server"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> list[tuple[str, bool]]:
    """The server modules ``name`` imports, each with whether the import is at module level."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # ``from .pkg import mod`` imports the module pkg.mod; ``from .mod import name``, mod.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target in known:
                found.append((target, id(node) in top_level))
    return found


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    known = set(modules)
    graph, hidden = {}, []
    for name, path in modules.items():
        edges = _imports(name, path, known)
        graph[name] = {target for target, _ in edges if target != name}
        hidden += [f"{name} -> {target}" for target, at_top in edges if not at_top]
    return graph, hidden


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}  # state: 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                found.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_server_imports_have_no_cycle():
    graph, _ = _graph()
    assert len(graph) > 20 and graph["buybutton_server.routes"] >= {
        "buybutton_server.api",
        "buybutton_server.shopper",
        "buybutton_server.widget",
    }
    assert _cycles(graph) == []


def test_no_server_module_is_imported_inside_a_function():
    _, hidden = _graph()
    assert hidden == []


def test_the_walk_finds_a_cycle_and_a_hidden_import(tmp_path, monkeypatch):
    # The checks above pass because there is nothing to find, not because they cannot find it.
    fake = tmp_path / PACKAGE
    (fake / "sub").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "a.py").write_text("from .sub import b\n")
    (fake / "sub" / "__init__.py").write_text("")
    (fake / "sub" / "b.py").write_text("def f():\n    from ..a import x\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake)
    graph, hidden = _graph()
    assert hidden == [f"{PACKAGE}.sub.b -> {PACKAGE}.a"]
    assert _cycles(graph) == [[f"{PACKAGE}.a", f"{PACKAGE}.sub.b", f"{PACKAGE}.a"]]
