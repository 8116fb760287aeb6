"""The core's layering: it never pulls in the web framework, and its imports form no cycle.

The import graph is read from the source (``ast``), top-level and function-level imports alike,
so an import moved into a function to dodge a cycle still counts. Importing ``a.b.c`` runs the
``__init__`` of ``a.b`` first, so an edge to a module is also an edge to each package above it,
except the importer's own packages (a package's ``__init__`` may import its own modules).
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import buybutton

CORE = Path(buybutton.__file__).parent
#: The composition root: the command line wires the core to the server (serve, demo, and the
#: links of tokens issue come from the server's route table), and imports the server only
#: inside those commands, so every other command runs without Flask.
SERVER_SIDE = {"buybutton.cli"}
FRAMEWORK = ("flask", "werkzeug", "buybutton_server")

#: Function-level imports of buybutton modules that are allowed, each with its reason. None
#: dodges a cycle: the graph below includes them and must still be acyclic.
LAZY_IMPORTS: dict[tuple[str, str], str] = {}


def module_names() -> list[str]:
    """Every module of the core, except the Alembic migrations (scripts Alembic loads)."""
    return ["buybutton"] + sorted(
        info.name
        for info in pkgutil.walk_packages([str(CORE)], "buybutton.")
        if ".migrations" not in info.name
    )


def source_of(name: str) -> Path:
    path = CORE.joinpath(*name.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def is_package(name: str) -> bool:
    return source_of(name).name == "__init__.py"


def imports_of(name: str, known: set[str]) -> list[tuple[str, bool]]:
    """``(imported buybutton module, at function level?)`` for each import in ``name``'s source."""
    tree = ast.parse(source_of(name).read_text())
    top_level = {id(node) for node in tree.body}
    package = name if is_package(name) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from pkg import name``: the submodule pkg.name if there is one, else pkg itself.
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                for alias in node.names
            ]
        else:
            continue
        lazy = id(node) not in top_level and not _inside_top_level_block(tree, node)
        found += [(target, lazy) for target in targets if target.split(".")[0] == "buybutton"]
    return found


def _inside_top_level_block(tree: ast.Module, node: ast.AST) -> bool:
    """An import under a top-level ``try``/``if`` still runs at import time."""
    for statement in tree.body:
        if isinstance(statement, (ast.Try, ast.If)) and node in ast.walk(statement):
            return not any(
                isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and node in ast.walk(inner)
                for inner in ast.walk(statement)
            )
    return False


def import_graph() -> tuple[dict[str, set[str]], set[tuple[str, str]]]:
    """The core's import graph (module -> modules it makes Python run) and its lazy edges."""
    names = module_names()
    known = set(names)
    graph: dict[str, set[str]] = {name: set() for name in names}
    lazy: set[tuple[str, str]] = set()
    for name in names:
        own_packages = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        for target, at_function_level in imports_of(name, known):
            assert target in known, f"{name} imports {target}, which does not exist"
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                step = ".".join(parts[:i])
                # The target itself always; a package above it unless it is one of ours
                # (then it is already being imported, by the import of ``name``).
                if step != name and (step == target or step not in own_packages):
                    graph[name].add(step)
            if at_function_level:
                lazy.add((name, target))
    return graph, lazy


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_importing_every_core_module_pulls_in_no_web_framework():
    core = [name for name in module_names() if name not in SERVER_SIDE | {"buybutton.cli"}]
    script = (
        f"import sys\nimport {', '.join(core)}\n"
        f"print(__import__('json').dumps(sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {FRAMEWORK!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(result.stdout) == []
    assert "buybutton.webhooks.delivery" in core and "buybutton.store.schema" in core


def test_no_core_module_names_the_web_framework_in_its_source():
    offenders = []
    for name in module_names():
        if name in SERVER_SIDE:
            continue
        for node in ast.walk(ast.parse(source_of(name).read_text())):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            offenders += [f"{name}:{node.lineno} {root}" for root in roots if root in FRAMEWORK]
    assert offenders == []


def test_the_core_import_graph_has_no_cycle():
    graph, _ = import_graph()
    assert graph["buybutton.orders"] >= {"buybutton.webhooks", "buybutton.payments.base"}
    assert find_cycle(graph) is None


def test_no_function_level_import_of_the_core_but_the_listed_ones():
    _, lazy = import_graph()
    assert lazy == set(LAZY_IMPORTS)


def test_the_graph_reader_sees_a_cycle_dodged_by_a_function_level_import():
    # orders -> payments (the package runs its __init__) -> sandbox -> orders: the shape the
    # old make_provider in payments/__init__ had, with its imports inside the function.
    graph = {
        "buybutton.orders": {"buybutton.payments", "buybutton.payments.base"},
        "buybutton.payments": {"buybutton.payments.base", "buybutton.payments.sandbox"},
        "buybutton.payments.base": set(),
        "buybutton.payments.sandbox": {"buybutton.orders", "buybutton.payments.base"},
    }
    assert find_cycle(graph) == [
        "buybutton.orders",
        "buybutton.payments",
        "buybutton.payments.sandbox",
        "buybutton.orders",
    ]


def test_the_command_line_loads_the_server_only_for_the_commands_that_need_it():
    # buybutton.cli imports buybutton_server inside serve, demo and tokens issue only: every
    # other command (db upgrade, products create, orders reconcile, …) runs without Flask.
    probe = (
        "import sys, buybutton.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{FRAMEWORK!r}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
