"""The public surface of ``relmark`` is pinned: adding or removing a name is a deliberate act."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

import relmark

PUBLIC = frozenset(
    {
        "BGBB",
        "BGNBD",
        "CalibrationHoldoutTable",
        "FrequencyRecencyMatrix",
        "ModelComparison",
        "RepeatPurchaseHistogram",
        "TrackingCurves",
        "calibration_holdout_table",
        "compare_models",
        "frequency_recency_matrix",
        "repeat_purchase_histogram",
        "tracking_curves",
        "CLVScorer",
        "TransactionModelScorer",
        "MBGNBD",
        "RFM_PACKAGE_SEGMENTS",
        "RF_GRID_SEGMENTS",
        "BGBBParams",
        "BGNBDParams",
        "CovariateBGNBD",
        "CovariateMBGNBD",
        "CovariateModel",
        "CovariateParetoNBD",
        "Covariates",
        "LikelihoodRatioTest",
        "CampaignId",
        "Catalogue",
        "CatalogueOrderRanker",
        "Channel",
        "ColumnInfo",
        "ColumnKind",
        "CommitmentTrustScorer",
        "CompressedSummary",
        "ConsentAction",
        "ConsentRequiredError",
        "Construct",
        "ConvergenceError",
        "Customer",
        "CustomerId",
        "CustomerSummary",
        "Direction",
        "ExpectedValueRanker",
        "FieldSpec",
        "FitResult",
        "GammaGamma",
        "GammaGammaParams",
        "Instrument",
        "InvalidInputError",
        "InvalidPayloadError",
        "Item",
        "LawfulBasis",
        "LifecycleStage",
        "LintReport",
        "Market",
        "MissingDependencyError",
        "MissingItemPolicy",
        "ModelAssumptionWarning",
        "NotFittedError",
        "ParameterTable",
        "ParetoNBD",
        "ParetoNBDParams",
        "StructuralPath",
        "PathSign",
        "Profile",
        "ProfileBook",
        "ProfileBuilder",
        "QuestionRanker",
        "RFMScorer",
        "RelationshipLevel",
        "ReliabilityWarning",
        "RelmarkError",
        "RelmarkWarning",
        "ScoreTable",
        "ScorerRegistry",
        "Segment",
        "SegmentRules",
        "Sensitivity",
        "ShiftedBetaGeometric",
        "ShiftedBetaGeometricParams",
        "Stage",
        "Stakeholder",
        "StakeholderId",
        "StakeholderRole",
        "TimeUnit",
        "Touchpoint",
        "TouchpointId",
        "TouchpointKind",
        "TouchpointTable",
        "Transaction",
        "TransactionId",
        "TransactionLog",
        "UnknownScorerError",
        "ValueSource",
        "__version__",
        "available_scorers",
        "average_variance_extracted",
        "compare_with_rival",
        "composite_reliability",
        "cronbach_alpha",
        "customer_effort_score",
        "customer_lifetime_value",
        "customer_satisfaction_score",
        "default_catalogue",
        "default_kmv_instrument",
        "fit_path_model",
        "from_json",
        "get_scorer",
        "lifecycle_stage",
        "mcdonald_omega",
        "net_promoter_score",
        "recommend_relationship_level",
        "register_scorer",
        "relationship_quality_instrument",
        "reliability_report",
        "score",
        "score_constructs",
        "to_json",
        "touchpoint_proxies",
    }
)


def test_public_names_are_pinned() -> None:
    """``relmark.__all__`` is exactly the pinned set; update PUBLIC when the API changes on purpose."""
    assert set(relmark.__all__) == PUBLIC


def test_all_has_no_duplicates() -> None:
    """``__all__`` lists each name once (its order is kept sorted by ruff's RUF022)."""
    assert len(relmark.__all__) == len(set(relmark.__all__))


@pytest.mark.parametrize("name", sorted(PUBLIC - {"__version__"}))
def test_every_public_name_resolves_to_its_home_module(name: str) -> None:
    """Each flat name loads, and classes and functions are the objects of their home module."""
    value = getattr(relmark, name)
    home = relmark._HOME[name]
    assert getattr(importlib.import_module(home), name) is value
    module = getattr(value, "__module__", None)
    if callable(value) and isinstance(module, str) and not name.endswith("Id"):
        assert module == home or module.startswith(home + ".")


def test_version_comes_from_package_metadata() -> None:
    """``__version__`` is the installed distribution's version."""
    assert relmark.__version__ == importlib.metadata.version("relmark")


def test_unknown_attribute_raises_attribute_error() -> None:
    """A misspelt name fails loudly rather than returning something."""
    with pytest.raises(AttributeError, match="no attribute 'BGNDB'"):
        _ = relmark.BGNDB  # type: ignore[attr-defined]


def test_importing_relmark_is_cheap() -> None:
    """``import relmark`` loads no model code, scipy.optimize or frame library (lazy flat API)."""
    code = (
        "import sys, relmark; "
        "heavy = [m for m in ('scipy.optimize', 'scipy.stats', 'pandas', 'polars', 'pyarrow', "
        "'matplotlib', 'relmark.clv', 'relmark.trust') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


# Twelve flat names from different home modules, touched at once by twelve threads of a fresh
# interpreter: the pattern that raised _DeadlockError in 5 of 57 processes before the lock.
_CHILD = textwrap.dedent(
    """
    import sys, threading
    import relmark

    NAMES = [
        "CustomerSummary", "BGNBD", "RFMScorer", "Profile", "ScoreTable", "to_json",
        "CommitmentTrustScorer", "TransactionLog", "ProfileBuilder", "GammaGamma",
        "get_scorer", "Customer",
    ]
    barrier = threading.Barrier(len(NAMES))
    errors = []

    def touch(name):
        barrier.wait()
        try:
            getattr(relmark, name)
        except BaseException as exc:
            errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=touch, args=(n,)) for n in NAMES]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if any(t.is_alive() for t in threads):
        print("threads hung")
        sys.exit(3)
    print(errors)
    sys.exit(1 if errors else 0)
    """
)

_PROCESSES = 20


def _run_child(_: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_lazy_flat_api_is_safe_under_concurrent_first_use() -> None:
    """20 fresh processes x 12 threads touching flat names at once: no deadlock, no error."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_run_child, range(_PROCESSES)))
    failures = [(r.returncode, r.stdout[-300:], r.stderr[-300:]) for r in results if r.returncode]
    assert failures == []


# Threads that import relmark's modules themselves, for the first time, all at once, in a fresh
# process (half of them also touch a flat name). CPython takes a module's import lock before it
# imports the module's parent package; when relmark's subpackages imported their modules eagerly,
# this failed in 12 of 20 fresh processes (_DeadlockError or "partially initialized module").
# With lazy package namespaces (relmark._lazy) importing a package imports none of its modules.
_PREIMPORT_CHILD = textwrap.dedent(
    """
    import importlib, sys, threading
    import relmark

    MODULES = [
        "relmark.data.summary", "relmark.clv", "relmark.rfm.scorer", "relmark.profile",
        "relmark.data.table", "relmark.io", "relmark.trust", "relmark.data.log",
        "relmark.profile.builder", "relmark.clv.gamma_gamma", "relmark.scoring.registry",
        "relmark.domain",
    ]
    barrier = threading.Barrier(len(MODULES))
    errors = []

    def load(name):
        barrier.wait()
        try:
            module = importlib.import_module(name)
            if MODULES.index(name) % 2:
                getattr(relmark, "BGNBD")
            dir(module)
        except BaseException as exc:
            errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=load, args=(m,)) for m in MODULES]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if any(t.is_alive() for t in threads):
        print("threads hung")
        sys.exit(3)
    print(errors)
    sys.exit(1 if errors else 0)
    """
)


@pytest.mark.slow
def test_threads_importing_modules_for_the_first_time_at_once() -> None:
    """12 threads importing relmark modules (and flat names) for the first time never fail."""

    def run(_: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _PREIMPORT_CHILD],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, range(16)))
    failures = [(r.returncode, r.stdout[-300:], r.stderr[-300:]) for r in results if r.returncode]
    assert failures == []
