"""The architecture holds: imports flow one way (channels -> reminders -> service -> answering/llm -> store -> ingest), without
circles, and no module grows past 400 lines."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# lower layers never import higher ones; modules of one layer may import each other (without a circle)
LAYERS = [
    ("ingest",),
    ("kbase.settings", "kbase.model"),
    ("kbase.store",),
    ("kbase.answering", "kbase.llm"),
    ("kbase.service",),
    ("kbase.reminders",),
    ("kbase.channels",),
    ("kbase.bench", "bot"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    files = [ROOT / "bot.py", *(ROOT / "ingest").rglob("*.py"), *(ROOT / "kbase").rglob("*.py")]
    return {_module_name(f): f for f in files if f.stat().st_size}  # empty package markers import nothing


def _imports(path: Path, known: set[str]) -> set[str]:
    """Project modules a file imports, at any depth (function-level imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in known}
    return found


GRAPH = {name: _imports(path, set(_modules())) - {name} for name, path in _modules().items()}


def _layer(module: str) -> int | None:
    return next((i for i, prefixes in enumerate(LAYERS)
                 if any(module == p or module.startswith(p + ".") for p in prefixes)), None)


def test_every_module_has_a_layer():
    assert [module for module in GRAPH if _layer(module) is None] == []


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_flow_downwards(module):
    upward = [target for target in GRAPH[module] if _layer(target) > _layer(module)]
    assert not upward, f"{module} imports a higher layer: {upward}"


def test_no_import_circle():
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                pytest.fail("import circle: " + " -> ".join([*path, module, target]))
            if target not in state:
                visit(target, [*path, module])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m != "bot"))
def test_modules_stay_small(module):
    lines = len(_modules()[module].read_text(encoding="utf-8").splitlines())
    assert lines <= 400, f"{module} has {lines} lines"
