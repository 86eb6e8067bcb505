"""relmark.typing: every protocol in one place, and relmark's own classes satisfy them.

The static half runs mypy (strict, the project's configuration) over a snippet that assigns real
relmark objects to protocol-typed names, plus deliberate misfits that must be rejected: this is
the check that a protocol naming a real class (rather than a structural stand-in, which
contravariant parameters would make unusable) accepts the real implementations.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import textwrap
from pathlib import Path
from typing import Protocol

import numpy as np
import pytest

import relmark._typing
import relmark.typing
from relmark.clv import BGNBD, GammaGamma
from relmark.core.mle import RowLikelihood
from relmark.domain import Customer
from relmark.profile import CatalogueOrderRanker, ExpectedValueRanker
from relmark.rfm import RFMScorer
from relmark.typing import (
    CustomerLike,
    QuestionRanker,
    Scorer,
    SpendModel,
    TransactionModel,
    WeightedLikelihood,
)

ROOT = Path(__file__).resolve().parents[1]


def _protocols(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and value.__module__ == getattr(module, "__name__", None)
        and Protocol in getattr(value, "__mro__", ())
        and getattr(value, "_is_protocol", False)
    }


def test_every_protocol_is_exported() -> None:
    """Each protocol defined in relmark.typing or its layer-0 part is in relmark.typing.__all__."""
    defined = _protocols(relmark.typing) | _protocols(relmark._typing)
    assert defined <= set(relmark.typing.__all__)
    assert {"Scorer", "WeightedLikelihood", "QuestionRanker", "TransactionKernels"} <= defined


def test_layer_zero_names_are_re_exported_not_copied() -> None:
    """relmark.typing re-exports the very objects of relmark._typing (one definition each)."""
    for name in relmark._typing.__all__:
        assert getattr(relmark.typing, name) is getattr(relmark._typing, name)


def test_package_re_exports_are_the_typing_protocols() -> None:
    """relmark.clv and relmark.profile hand out relmark.typing's protocols, not copies."""
    import relmark.clv
    import relmark.profile

    assert relmark.clv.TransactionModel is TransactionModel
    assert relmark.clv.SpendModel is SpendModel
    assert relmark.profile.QuestionRanker is QuestionRanker
    assert relmark.QuestionRanker is QuestionRanker


def test_runtime_checks_accept_relmark_classes() -> None:
    """isinstance against the runtime-checkable protocols accepts relmark's own objects."""
    model = BGNBD.from_params(r=0.24, alpha=4.41, a=0.79, b=2.43, unit="W")
    customer = Customer(customer_id="c1", opened_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    ones = np.ones(3)
    likelihood = RowLikelihood(lambda _, x: (x, x[:, None]), [ones], ones)
    assert isinstance(RFMScorer(), Scorer)
    assert isinstance(model, TransactionModel)
    assert isinstance(GammaGamma(), SpendModel)
    assert isinstance(customer, CustomerLike)
    assert isinstance(ExpectedValueRanker(), QuestionRanker)
    assert isinstance(CatalogueOrderRanker(), QuestionRanker)
    assert isinstance(likelihood, WeightedLikelihood)


def test_runtime_checks_refuse_other_objects() -> None:
    """An object without the protocol's members is not an instance of it."""
    for protocol in (Scorer, TransactionModel, SpendModel, CustomerLike, QuestionRanker):
        assert not isinstance(object(), protocol)
    assert not isinstance(BGNBD(), Scorer)  # a model has fit but no score


SNIPPET = """
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Self

import relmark.core.bgnbd
import relmark.core.mbgnbd
import relmark.core.paretonbd
from relmark.clv import BGBB, BGNBD, MBGNBD, FitResult, GammaGamma, ParetoNBD
from relmark.core.bgnbd_likelihood import BGNBDLikelihood
from relmark.core.mle import RowLikelihood
from relmark.data import CustomerSummary
from relmark.data.table import ScoreTable
from relmark.domain import Customer
from relmark.profile import (
    CatalogueOrderRanker, ExpectedValueRanker, FieldSpec, Profile, RankedQuestion,
)
from relmark import CLVScorer, CommitmentTrustScorer, RFMScorer
from relmark.typing import (
    ComparableModel, CountModel, CustomerLike, FitStatistics, HoldoutModel, MatrixModel,
    NewCustomerModel, QuestionRanker, Scorer, SpendModel, TransactionKernels,
    TransactionModel, WeightedLikelihood,
)

Ranker = QuestionRanker[Profile, FieldSpec, RankedQuestion]


class ScoresIntegers:
    def fit(self, summary: int, /) -> Self:
        return self

    def score(self, summary: CustomerSummary, /) -> ScoreTable:
        raise NotImplementedError


class RanksStrings:
    def rank(
        self, profile: str, candidates: Sequence[FieldSpec], *, now: dt.datetime
    ) -> list[RankedQuestion]:
        return []


def conforming(
    fit: FitResult,
    customer: Customer,
    bgnbd_likelihood: BGNBDLikelihood,
    row_likelihood: RowLikelihood,
) -> list[object]:
    scorers: list[Scorer] = [CLVScorer(), RFMScorer(), CommitmentTrustScorer()]
    transaction: list[TransactionModel] = [BGNBD(), MBGNBD(), ParetoNBD()]
    spend: SpendModel = GammaGamma()
    holdout: list[HoldoutModel] = [BGNBD(), MBGNBD(), ParetoNBD()]
    matrix: list[MatrixModel] = [BGNBD(), MBGNBD(), ParetoNBD()]
    counts: list[CountModel] = [BGNBD(), MBGNBD(), ParetoNBD()]
    new: list[NewCustomerModel] = [BGNBD(), MBGNBD(), ParetoNBD()]
    comparable: list[ComparableModel] = [BGNBD(), ParetoNBD(), GammaGamma(), BGBB()]
    statistics: FitStatistics = fit
    kernels: list[TransactionKernels] = [
        relmark.core.bgnbd, relmark.core.mbgnbd, relmark.core.paretonbd
    ]
    likelihoods: list[WeightedLikelihood] = [bgnbd_likelihood, row_likelihood]
    who: CustomerLike = customer
    rankers: list[Ranker] = [ExpectedValueRanker(), CatalogueOrderRanker()]
    return [scorers, transaction, spend, holdout, matrix, counts, new, comparable, statistics,
            kernels, likelihoods, who, rankers]


def misfits() -> list[object]:
    narrow: Scorer = ScoresIntegers()  # expect-error
    wrong_profile: Ranker = RanksStrings()  # expect-error
    no_spend: SpendModel = BGNBD()  # expect-error
    return [narrow, wrong_profile, no_spend]
"""


@pytest.mark.slow
def test_relmark_classes_satisfy_the_protocols_statically(tmp_path: Path) -> None:
    """mypy --strict accepts relmark's classes for every protocol and rejects the misfits."""
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "relmark_protocol_conformance.py"
    snippet.write_text(textwrap.dedent(SNIPPET).lstrip(), encoding="utf-8")
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-error-summary",
            "--show-error-codes",
            str(snippet),
        ]
    )
    lines = snippet.read_text(encoding="utf-8").splitlines()
    expected = {i for i, line in enumerate(lines, start=1) if line.endswith("# expect-error")}
    # By file name: mypy may report a module unchanged since its cache entry under that path.
    errors = re.findall(rf"^.*{re.escape(snippet.name)}:(\d+): error: (.*)$", stdout, re.MULTILINE)
    assert not stderr
    assert {int(line) for line, _ in errors} == expected, stdout
