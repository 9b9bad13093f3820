"""The package's shape (docs/architecture.md): which layer may import which, no import cycles,
no module over 350 lines. Read from the source with ast, so a new file is checked too."""

import ast
from pathlib import Path

import pytest

from fixtures.app import ROOT

PACKAGE = ROOT / "blog"
MAX_LINES = 350
# Request-free layers: they run in the mail worker, CLI commands and imports as well as in
# requests, so they take what they need as arguments.
REQUEST_FREE = ("blog/content", "blog/models", "blog/mail/message.py", "blog/mail/fit.py")
REQUEST_GLOBALS = {"request", "session", "g"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path, top_level: bool) -> set[str]:
    """The blog modules path imports: at module level (top_level) or inside functions."""
    tree = ast.parse(path.read_text())
    nodes = (
        tree.body
        if top_level
        else [
            node
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(fn)
        ]
    )
    names = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name in MODULES}


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_module_is_over_350_lines():
    long = {
        _relative(path): n
        for path in MODULES.values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_outside_admin_imports_admin():
    offenders = {
        _relative(path): sorted(
            name for name in _imports(path, True) if name.startswith("blog.admin")
        )
        for name, path in MODULES.items()
        if not name.startswith("blog.admin")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_import_hides_inside_a_function():
    """An import inside a function is how a cycle hides; create_app's wiring is the exception
    (it imports the blueprints it registers)."""
    hidden = {
        _relative(path): sorted(_imports(path, False))
        for name, path in MODULES.items()
        if name != "blog"
    }
    assert {path: names for path, names in hidden.items() if names} == {}


def test_no_import_cycle():
    graph = {name: _imports(path, True) - {name} for name, path in MODULES.items()}
    # A package's __init__ importing its own modules is not a cycle with them.
    for name in graph:
        graph[name] = {
            other for other in graph[name] if not (other.startswith(name + ".") and name in graph)
        }
    seen, on_path, cycles = set(), [], []

    def visit(name: str) -> None:
        if name in on_path:
            cycles.append(on_path[on_path.index(name) :] + [name])
            return
        if name in seen:
            return
        seen.add(name)
        on_path.append(name)
        for other in sorted(graph[name]):
            visit(other)
        on_path.pop()

    for name in sorted(graph):
        visit(name)
    assert cycles == []


@pytest.mark.parametrize("layer", REQUEST_FREE)
def test_request_free_layers_never_read_the_request(layer):
    paths = [ROOT / layer] if layer.endswith(".py") else sorted((ROOT / layer).rglob("*.py"))
    assert paths
    offenders = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                used = REQUEST_GLOBALS & {alias.name for alias in node.names}
                if used:
                    offenders[_relative(path)] = sorted(used)
    assert offenders == {}
