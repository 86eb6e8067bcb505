"""The house plan, enforced: imports point down the layers, optional libraries stay optional.

Layers, bottom to top (ARCHITECTURE.md). `ScoreTable` (what every scorer returns) lives in the data
layer (`relmark.data.table`), so model packages below the scoring registry can return it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "relmark"

# Lower number = lower layer. A module may import modules of its own or a lower layer.
LAYERS: dict[str, int] = {
    "relmark.errors": 0,
    "relmark._display": 0,  # the shared HTML/text table renderer of every table-like result
    "relmark._estimator": 0,
    "relmark._lazy": 0,  # PEP 562 namespaces of every package  # get_params/set_params/repr shared by models and scorers
    "relmark.typing": 0,
    "relmark.domain": 1,
    "relmark.core": 1,
    "relmark.data": 2,
    "relmark.io": 2,
    "relmark.clv": 3,
    "relmark.rfm": 3,
    "relmark.trust": 3,
    "relmark.scoring": 4,
    "relmark.testing": 5,
    "relmark.datasets": 5,
    "relmark.profile": 5,
    "relmark.program": 6,  # the relationship program loop: above profile and scoring
    "relmark.plotting": 6,
    "relmark.dask": 6,  # scale-out: may import anything below the command line
    "relmark.compat": 6,  # lifetimes' API over relmark: an adapter above the models
    "relmark": 7,  # the flat public API re-exports everything below the command line
    "relmark.cli": 8,
}

OPTIONAL = (
    "pandas",
    "polars",
    "pyarrow",
    "matplotlib",
    "rich",
    "hypothesis",
    "mpmath",
    "dask",
    "distributed",
)
NEVER = ("lifetimes", "pingouin", "pickle", "dill")


def _layer_of(module: str) -> int:
    best = ""
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return LAYERS[best]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
    )


def _imports(tree: ast.Module, *, module_level_only: bool) -> list[tuple[int, str]]:
    """(line, imported module) pairs, skipping `if TYPE_CHECKING:` blocks."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, *, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking_block(child):
                continue
            if isinstance(child, ast.Import) and (top or not module_level_only):
                found.extend((child.lineno, alias.name) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and (top or not module_level_only):
                if child.level:
                    found.append((child.lineno, f"<relative import level {child.level}>"))
                elif child.module:
                    found.append((child.lineno, child.module))
            is_scope = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, top=top and not is_scope)

    visit(tree, top=True)
    return found


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down_the_layers(path: Path) -> None:
    """No module imports a relmark module from a higher layer (TYPE_CHECKING imports excepted)."""
    here = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upward = [
        f"line {line}: {here} (layer {_layer_of(here)}) imports {target} (layer {_layer_of(target)})"
        for line, target in _imports(tree, module_level_only=False)
        if target.startswith("relmark") and _layer_of(target) > _layer_of(here)
    ]
    relative = [
        f"line {line}: {here} uses {t}"
        for line, t in _imports(tree, module_level_only=False)
        if t.startswith("<relative")
    ]
    assert not upward, "imports that run up the layers:\n" + "\n".join(upward)
    assert not relative, "use absolute imports:\n" + "\n".join(relative)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_optional_libraries_are_imported_lazily(path: Path) -> None:
    """Frame, plotting and test libraries are never imported at module level by library code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    allowed = {"relmark.testing.strategies": {"hypothesis"}}.get(here, set())
    eager = [
        f"line {line}: {target}"
        for line, target in _imports(tree, module_level_only=True)
        if target.split(".")[0] in OPTIONAL and target.split(".")[0] not in allowed
    ]
    assert not eager, f"{here} imports optional libraries at module level:\n" + "\n".join(eager)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_library_never_imports_the_oracle_or_pickle(path: Path) -> None:
    """lifetimes is a test oracle only, and persistence is never pickle or dill."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [
        f"line {line}: {target}"
        for line, target in _imports(tree, module_level_only=False)
        if target.split(".")[0] in NEVER
    ]
    assert not bad, f"{_module_name(path)} imports forbidden modules:\n" + "\n".join(bad)


def test_every_package_is_assigned_a_layer() -> None:
    """Each relmark subpackage or top-level module has an explicit place in the plan."""
    unplaced = []
    for path in MODULES:
        name = _module_name(path)
        top = ".".join(name.split(".")[:2])
        if top not in LAYERS:
            unplaced.append(top)
    assert not unplaced, f"add these to LAYERS: {sorted(set(unplaced))}"
