"""The house plan, enforced: imports point down the layers, optional libraries stay optional.

Layers, bottom to top (ARCHITECTURE.md). `ScoreTable` (what every scorer returns) lives in the data
layer (`relmark.data.table`), so model packages below the scoring registry can return it.
Every protocol is defined in `relmark.typing`, which sits between the data layer and the model
packages (its numpy-only part, `relmark._typing`, at the bottom), and no package imports another
package's private module or private name (docs/explanation/architecture.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "relmark"

# Lower number = lower layer. A module may import modules of its own or a lower layer.
LAYERS: dict[str, float] = {
    "relmark.errors": 0,
    "relmark._display": 0,  # the shared HTML/text table renderer of every table-like result
    "relmark._estimator": 0,  # get_params/set_params/repr shared by models and scorers
    "relmark._validation": 0,  # every generic check (numbers, ids, columns, array equality)
    "relmark._frames": 0,  # frame interop (narwhals, pandas/polars/pyarrow lazily) and file readers
    "relmark._lazy": 0,  # PEP 562 namespaces of every package
    "relmark._typing": 0,  # array aliases and the MLE contract: the numpy-only part of typing
    "relmark.domain": 1,
    "relmark.core": 1,
    "relmark.data": 2,
    "relmark.io": 2,
    # Every protocol: above the data layer so its contracts name CustomerSummary, ScoreTable and
    # TimeUnit for real (parameters are contravariant: no structural stand-in would do).
    "relmark.typing": 2.5,
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


def _layer_of(module: str) -> float:
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


# ---------------------------------------------------------------------------- private modules
def _package_of(module: str) -> str:
    """``relmark.clv`` for ``relmark.clv.value``; a top-level module is its own package."""
    return ".".join(module.split(".")[:2])


def _is_shared_bottom_module(module: str) -> bool:
    """A top-level private module at layer 0 (``relmark._validation``): shared by every package."""
    parts = module.split(".")
    return len(parts) == 2 and parts[1].startswith("_") and LAYERS.get(module) == 0


def _private_imports(here: str, tree: ast.Module) -> list[tuple[int, str]]:
    """(line, what) for each import of another package's private module or private name.

    Imports under ``if TYPE_CHECKING:`` count too: a private name is an implementation detail
    even for the type checker.
    """
    own = _package_of(here)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            targets = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for imported, imported_name in targets:
            module, name = imported, imported_name
            if not module.startswith("relmark"):
                continue
            if name is not None and f"{module}.{name}" in LAYERS:
                module, name = f"{module}.{name}", None  # `from relmark import _display`
            if _package_of(module) == own:
                continue
            private_part = any(part.startswith("_") for part in module.split(".")[1:])
            if private_part and not _is_shared_bottom_module(module):
                found.append((node.lineno, module))
            elif name is not None and name.startswith("_"):
                found.append((node.lineno, f"{module}.{name}"))
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_package_imports_another_packages_private_module(path: Path) -> None:
    """Across packages only public modules and names are imported (bottom shared modules apart)."""
    here = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"line {line}: {here} imports {what}" for line, what in _private_imports(here, tree)]
    assert not bad, "imports of another package's private module or name:\n" + "\n".join(bad)


def test_private_import_rule_catches_each_form() -> None:
    """The rule flags a private module, a private name and a private submodule of another package."""
    source = (
        "from relmark.data._timestamps import parse_instant\n"
        "from relmark.clv.value import _lifetime_value\n"
        "from relmark.clv import _base\n"
        "import relmark.data._periods\n"
        "from relmark._validation import check_real\n"
        "from relmark.dask import summarize\n"
        "from relmark.scoring.pipeline import _own_private\n"
    )
    found = _private_imports("relmark.scoring.pipeline", ast.parse(source))
    assert found == [
        (1, "relmark.data._timestamps"),
        (2, "relmark.clv.value._lifetime_value"),
        (3, "relmark.clv._base"),
        (4, "relmark.data._periods"),
    ]


# ---------------------------------------------------------------------------- protocols
TYPING_MODULES = ("relmark.typing", "relmark._typing")


def _is_protocol_base(base: ast.expr) -> bool:
    if isinstance(base, ast.Subscript):  # Protocol[T]
        base = base.value
    return (isinstance(base, ast.Name) and base.id == "Protocol") or (
        isinstance(base, ast.Attribute) and base.attr == "Protocol"
    )


def _protocol_classes(tree: ast.Module) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and any(_is_protocol_base(b) for b in node.bases)
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_protocols_are_defined_only_in_relmark_typing(path: Path) -> None:
    """A class deriving from Protocol lives in relmark.typing (or its numpy-only part)."""
    here = _module_name(path)
    if here in TYPING_MODULES:
        return
    found = _protocol_classes(ast.parse(path.read_text(encoding="utf-8")))
    assert not found, f"{here} defines protocols; move them to relmark.typing: " + ", ".join(
        f"{name} (line {line})" for line, name in found
    )


def test_protocol_rule_catches_each_spelling() -> None:
    """Plain, generic and qualified Protocol bases are all recognized; other bases are not."""
    source = (
        "class A(Protocol): ...\n"
        "class B(Protocol[T]): ...\n"
        "class C(typing.Protocol): ...\n"
        "class D(Base): ...\n"
        "class E(Generic[T]): ...\n"
    )
    assert [name for _, name in _protocol_classes(ast.parse(source))] == ["A", "B", "C"]


def test_typing_modules_define_protocols() -> None:
    """The protocol check looks at real files: relmark.typing does define the protocols."""
    tree = ast.parse((SRC / "typing.py").read_text(encoding="utf-8"))
    assert {"Scorer", "QuestionRanker", "TransactionModel"} <= {
        name for _, name in _protocol_classes(tree)
    }


@pytest.mark.parametrize("module", TYPING_MODULES)
def test_typing_imports_nothing_above_it_even_for_the_type_checker(module: str) -> None:
    """relmark.typing has no `if TYPE_CHECKING:` block: what it names, it imports for real."""
    path = SRC / (module.split(".")[1] + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    blocks = [node.lineno for node in ast.walk(tree) if _is_type_checking_block(node)]
    assert not blocks, f"{module} has TYPE_CHECKING imports at lines {blocks}"
