"""ScorerRegistry: built-ins, explicit registration, entry-point discovery, errors."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

import pytest

from relmark.clv.registry import available_models
from relmark.errors import InvalidInputError, UnknownScorerError
from relmark.rfm import RFMScorer
from relmark.scoring import registry as registry_module
from relmark.scoring.registry import ScorerRegistry, available_scorers, get_scorer, register_scorer


class Constant:
    """A minimal third-party-style scorer."""

    def __init__(self, *, value: int = 1) -> None:
        self.value = value

    def fit(self, summary):
        return self

    def score(self, summary): ...


def make_distribution(root, name, entries, module_source):
    """Write a fake installed distribution: dist-info with entry points, plus its module."""
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[relmark.scorers]\n{lines}\n")
    (root / f"{name}.py").write_text(textwrap.dedent(module_source))


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """A temporary site directory on sys.path holding the fake distribution 'mypkg'."""
    make_distribution(
        tmp_path,
        "mypkg",
        {
            "myscorer": "mypkg:MyScorer",
            "notascorer": "mypkg:NOT_CALLABLE",
            "broken": "missingmod:X",
            "halfscorer": "mypkg:Half",
        },
        """
        NOT_CALLABLE = 3

        class MyScorer:
            def __init__(self, *, scale=1.0):
                self.scale = scale

            def fit(self, summary):
                return self

            def score(self, summary):
                raise NotImplementedError

        class Half:
            def fit(self, summary):
                return self
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in ("mypkg", "missingmod"):
        sys.modules.pop(module, None)


def test_builtin_rfm_is_available_and_configured():
    """A fresh registry lists 'rfm' and builds a configured, unfitted RFMScorer."""
    registry = ScorerRegistry(entry_point_group=None)
    assert "rfm" in registry.available()
    scorer = registry.get("rfm", ties="first")
    assert isinstance(scorer, RFMScorer)
    assert scorer.ties == "first"
    assert not hasattr(scorer, "thresholds_")
    assert registry.get("rfm") is not registry.get("rfm")


def test_unknown_name_lists_the_available_scorers():
    """Asking for an unknown name raises UnknownScorerError listing what exists."""
    registry = ScorerRegistry(
        builtins={"rfm": "relmark.rfm.scorer:RFMScorer"}, entry_point_group=None
    )
    registry.register("constant", Constant)
    with pytest.raises(
        UnknownScorerError,
        match=r"No scorer is registered under 'nope'\. Available scorers: constant, rfm\.",
    ):
        registry.get("nope")
    with pytest.raises(LookupError):
        ScorerRegistry(builtins={}, entry_point_group=None).get("nope")


def test_register_as_decorator_and_duplicate_names():
    """The decorator registers a class; a second registration needs replace=True."""
    registry = ScorerRegistry(builtins={}, entry_point_group=None)

    @registry.register("constant")
    class First(Constant):
        pass

    assert registry.available() == ("constant",)
    assert isinstance(registry.get("constant", value=3), First)
    with pytest.raises(InvalidInputError, match="already registered"):
        registry.register("constant", Constant)
    registry.register("constant", Constant, replace=True)
    assert type(registry.get("constant")) is Constant


@pytest.mark.parametrize("name", ["", "Upper", "1abc", "with space", 3])
def test_bad_names_are_rejected(name):
    """Names must be lower-case identifiers-like strings."""
    with pytest.raises(InvalidInputError, match="'name' parameter"):
        ScorerRegistry(builtins={}, entry_point_group=None).register(name, Constant)


def test_non_callable_factory_is_rejected():
    """Registering something that cannot build a scorer fails at registration."""
    with pytest.raises(InvalidInputError, match="must be callable"):
        ScorerRegistry(builtins={}, entry_point_group=None).register("x", 3)


def test_entry_point_scorer_is_discovered_lazily(plugin_path):
    """A scorer advertised in the relmark.scorers group is listed, then imported on first use."""
    registry = ScorerRegistry(builtins={})
    assert "myscorer" in registry.available()
    assert "mypkg" not in sys.modules  # discovery reads metadata only
    scorer = registry.get("myscorer", scale=2.0)
    assert type(scorer).__name__ == "MyScorer"
    assert scorer.scale == 2.0
    assert "mypkg" in sys.modules


def test_entry_point_problems_are_reported(plugin_path):
    """Non-callable targets, unimportable modules and non-scorers fail with clear errors."""
    registry = ScorerRegistry(builtins={})
    with pytest.raises(
        InvalidInputError, match=r"'mypkg:NOT_CALLABLE' \(entry point in group 'relmark\.scorers'\)"
    ):
        registry.get("notascorer")
    with pytest.raises(ImportError) as excinfo:
        registry.get("broken")
    assert any("missingmod:X" in note for note in excinfo.value.__notes__)
    with pytest.raises(InvalidInputError, match="returned 'Half', which lacks"):
        registry.get("halfscorer")


def test_explicit_registration_hides_entry_point(plugin_path):
    """An explicit registration takes precedence over an entry point of the same name."""
    registry = ScorerRegistry(builtins={})
    registry.register("myscorer", Constant)
    assert type(registry.get("myscorer")) is Constant


def test_ignoring_entry_points():
    """entry_point_group=None never scans installed distributions."""
    registry = ScorerRegistry(builtins={}, entry_point_group=None)
    assert registry.available() == ()


def test_module_level_functions_use_the_default_registry(monkeypatch):
    """register_scorer/get_scorer/available_scorers act on DEFAULT_REGISTRY (swapped here)."""
    fresh = ScorerRegistry(entry_point_group=None)
    monkeypatch.setattr(registry_module, "DEFAULT_REGISTRY", fresh)

    @register_scorer("constant")
    class Mine(Constant):
        pass

    models = available_models()
    assert available_scorers() == tuple(
        sorted({"constant", *registry_module.BUILTIN_SCORERS, *models})
    )
    assert isinstance(get_scorer("constant"), Mine)
    assert isinstance(get_scorer("rfm", bins=5), RFMScorer)


class _RacyDict(dict):  # type: ignore[type-arg]
    """A dict whose check and update yield to other threads mid-way.

    CPython's dict makes one ``in`` or one assignment atomic, so a race between them would
    almost never show in a test. Sleeping inside them widens the window to milliseconds: only
    the registry's lock then keeps check-then-set atomic, and these tests fail without it.
    """

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        time.sleep(0.002)
        return found

    def __setitem__(self, key: object, value: object) -> None:
        snapshot = dict(self)  # read, yield, write back: a lost update unless serialized
        time.sleep(0.002)
        snapshot[key] = value
        self.clear()
        self.update(snapshot)

    def setdefault(self, key: object, default: object = None) -> object:
        if key not in self:
            self[key] = default
        return self[key]


def _racy_registry(**kwargs: object) -> ScorerRegistry:
    registry = ScorerRegistry(**kwargs)  # type: ignore[arg-type]
    registry._registered = _RacyDict()
    registry._loaded = _RacyDict()
    return registry


def test_concurrent_registration_of_one_name_has_one_winner() -> None:
    """Of 16 threads registering one name at once, exactly one succeeds; the others are refused."""
    registry = _racy_registry(builtins={}, entry_point_group=None)
    barrier = threading.Barrier(16)
    factories = [type(f"Scorer{i}", (), {"fit": None, "score": None}) for i in range(16)]
    outcomes: list[str] = []
    lock = threading.Lock()

    def register(factory: type) -> None:
        barrier.wait()
        try:
            registry.register("shared", factory)
            outcome = "won"
        except InvalidInputError:
            outcome = "refused"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=register, args=(f,)) for f in factories]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused"] * 15 + ["won"]
    assert registry.factory("shared") in factories


def test_concurrent_registration_of_distinct_names_keeps_every_one() -> None:
    """40 names registered from 8 threads at once are all present afterwards (no lost update)."""
    registry = _racy_registry(builtins={}, entry_point_group=None)
    names = [f"s{i}" for i in range(40)]
    barrier = threading.Barrier(8)

    def register(chunk: list[str]) -> None:
        barrier.wait()
        for name in chunk:
            registry.register(name, type(name, (), {"fit": None, "score": None}))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(register, [names[i::8] for i in range(8)]))
    assert registry.available() == tuple(sorted(names))


def test_concurrent_lazy_loading_of_a_builtin_returns_one_factory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Threads loading one lazy built-in at once all get the factory remembered first.

    The built-in's module hands out a new class on every attribute access, so two threads that
    both import it hold different objects; the registry must give every caller the same one.
    """
    module = types.ModuleType("_relmark_fresh_factories")

    def fresh(name: str) -> type:
        return type(name, (), {"fit": None, "score": None})

    module.__getattr__ = fresh  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    registry = _racy_registry(
        builtins={"fresh": f"{module.__name__}:Fresh"}, entry_point_group=None
    )
    barrier = threading.Barrier(8)

    def load(_: int) -> object:
        barrier.wait()
        return registry.factory("fresh")

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(load, range(8)))
    assert len({id(f) for f in found}) == 1
    assert registry.factory("fresh") is found[0]


def test_builtin_lazy_loading_from_threads_returns_the_class() -> None:
    """Threads asking for the real built-in 'rfm' all get RFMScorer itself."""
    registry = ScorerRegistry(entry_point_group=None)
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: registry.factory("rfm"), range(32)))
    assert all(f is RFMScorer for f in found)


def test_transaction_model_scorers_come_from_the_model_registry():
    """Every registered transaction model is a built-in name, unless the builtins are replaced."""
    names = available_models()
    registry = ScorerRegistry(entry_point_group=None)
    assert set(names) <= set(registry.available())
    for name in names:
        scorer = registry.get(name)
        assert type(scorer).__name__ == "TransactionModelScorer"
        assert scorer.get_params()["model"] == name
    assert not set(names) & set(ScorerRegistry(builtins={}, entry_point_group=None).available())
    bare = ScorerRegistry(builtin_groups=(), entry_point_group=None)
    assert not set(names) & set(bare.available())
    registry.register(names[0], Constant)
    assert isinstance(registry.get(names[0]), Constant)
