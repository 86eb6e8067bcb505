"""[`CommitmentTrustScorer`][relmark.trust.scorer.CommitmentTrustScorer]: trust and commitment indices per customer.

The scorer follows the relmark [`Scorer`][relmark.typing.Scorer] lifecycle. From the summary
alone it scores behavioural commitment (tenure, repeat rate, purchase continuity); given a
touchpoint log it adds the behavioural trust proxies; given survey construct scores it adds the
survey trust and commitment indices. Columns that need data the call did not provide are NaN
(never invented), with count columns saying how many proxies each index averages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from relmark._estimator import Estimator
from relmark._validation import check_real, row_index
from relmark.data.summary import CustomerSummary, require_summary
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.data.touchpoints import TouchpointTable
from relmark.errors import InvalidInputError
from relmark.trust.proxies import (
    COMMITMENT_PROXIES,
    TRUST_PROXIES,
    mean_of_available,
    summary_proxies,
    touchpoint_proxies,
)
from relmark.trust.scores import ConstructScores
from relmark.typing import FloatArray, IntArray

__all__ = ["CommitmentTrustScorer"]

_PROXY_INFO: dict[str, str] = {
    "tenure_percentile": "Percentile of relationship tenure T among the fitted customers.",
    "repeat_rate_percentile": "Percentile of the repeat-purchase rate x/T among the fitted "
    "customers (NaN when T = 0).",
    "purchase_continuity": "Share t_x/T of the observed relationship over which the customer "
    "kept buying (NaN when T = 0).",
    "communication_balance": "Two-way balance 2 min(in, out)/(in + out) of dialogue "
    "touchpoints (NaN without any).",
    "complaint_resolution_rate": "Share of complaints resolved (NaN without complaints).",
    "resolution_speed": "Mean 2^(-days/half-life) over resolved complaints (NaN without any).",
    "responsiveness": "Share of inbound requests answered within the response window (NaN "
    "without requests).",
}


def _columns_info() -> dict[str, ColumnInfo]:
    info: dict[str, ColumnInfo] = {}
    for name in (*COMMITMENT_PROXIES, *TRUST_PROXIES):
        info[name] = ColumnInfo(
            description=_PROXY_INFO[name], kind=ColumnKind.FLOAT, range=(0.0, 1.0)
        )
    info["behavioural_commitment_index"] = ColumnInfo(
        description="Behavioural commitment index: 100 x mean of the available commitment "
        "proxies (a proxy, not a survey measure).",
        kind=ColumnKind.FLOAT,
        unit="index points",
        range=(0.0, 100.0),
    )
    info["commitment_proxy_count"] = ColumnInfo(
        description="How many commitment proxies the behavioural commitment index averages.",
        kind=ColumnKind.INTEGER,
        range=(0.0, float(len(COMMITMENT_PROXIES))),
    )
    info["behavioural_trust_index"] = ColumnInfo(
        description="Behavioural trust index: 100 x mean of the available trust proxies "
        "(NaN without touchpoints; a proxy, not a survey measure).",
        kind=ColumnKind.FLOAT,
        unit="index points",
        range=(0.0, 100.0),
    )
    info["trust_proxy_count"] = ColumnInfo(
        description="How many trust proxies the behavioural trust index averages (0: no "
        "touchpoint data).",
        kind=ColumnKind.INTEGER,
        range=(0.0, float(len(TRUST_PROXIES))),
    )
    info["survey_trust_index"] = ColumnInfo(
        description="Survey trust index (0-100) of surveyed customers; NaN otherwise.",
        kind=ColumnKind.FLOAT,
        unit="index points",
        range=(0.0, 100.0),
    )
    info["survey_commitment_index"] = ColumnInfo(
        description="Survey commitment index (0-100) of surveyed customers; NaN otherwise.",
        kind=ColumnKind.FLOAT,
        unit="index points",
        range=(0.0, 100.0),
    )
    return info


def _lookup(keys: NDArray[Any], ids: NDArray[Any], what: str) -> IntArray:
    """Row of each summary id in ``keys`` (-1 when absent)."""
    numeric = "biuf"
    if keys.size and ids.size and (keys.dtype.kind in numeric) != (ids.dtype.kind in numeric):
        raise InvalidInputError(
            f"The {what} ids ({keys.dtype}) and the summary's customer ids ({ids.dtype}) are of "
            "different types, so none would match; convert one side first."
        )
    return row_index(keys, ids)


def _gather(values: FloatArray, index: IntArray) -> FloatArray:
    out = np.full(index.size, np.nan)
    hit = index >= 0
    out[hit] = values[index[hit]]
    return out


class CommitmentTrustScorer(Estimator):
    """Behavioural (and optionally survey) trust and commitment indices per customer.

    ``fit(summary)`` learns the reference distributions of tenure and repeat rate that the
    commitment percentiles are placed in. ``score(summary)`` then returns, per customer:

    - commitment proxies (``tenure_percentile``, ``repeat_rate_percentile``,
      ``purchase_continuity``) and ``behavioural_commitment_index`` (0-100) with
      ``commitment_proxy_count``;
    - trust proxies (``communication_balance``, ``complaint_resolution_rate``,
      ``resolution_speed``, ``responsiveness``) and ``behavioural_trust_index`` (0-100) with
      ``trust_proxy_count`` — NaN and 0 unless ``touchpoints`` are passed to ``score`` and the
      customer has touchpoints of the kinds needed;
    - ``survey_trust_index`` and ``survey_commitment_index`` — NaN unless ``survey`` scores are
      passed and the customer responded (respondent ids are customer ids).

    Definitions and rationale of the proxies: [`relmark.trust.proxies`][relmark.trust.proxies].
    Touchpoint counterparts and survey respondents that are not in the summary are not scored.

    Args:
        resolution_half_life_days: Days to resolve a complaint at which ``resolution_speed``
            is 0.5.
        response_window_days: Days within which an inbound request must be answered to count
            for ``responsiveness``.

    Examples:
        >>> from relmark.data.summary import CustomerSummary, require_summary
        >>> s = CustomerSummary.from_arrays([0, 2, 5], [0, 10, 20], [30, 30, 20])
        >>> table = CommitmentTrustScorer().fit(s).score(s)
        >>> table["commitment_proxy_count"].tolist()
        [3, 3, 3]
    """

    reference_tenure_: FloatArray
    reference_repeat_rate_: FloatArray
    reference_weights_: FloatArray

    def __init__(
        self, *, resolution_half_life_days: float = 3.0, response_window_days: float = 2.0
    ) -> None:
        self.resolution_half_life_days = resolution_half_life_days
        self.response_window_days = response_window_days

    def _check_parameters(self) -> None:
        for name in ("resolution_half_life_days", "response_window_days"):
            check_real(getattr(self, name), name=name, owner="CommitmentTrustScorer", strict=True)

    def fit(self, summary: CustomerSummary, /) -> Self:
        """Learn the reference tenure and repeat-rate distributions from ``summary``.

        Args:
            summary: The reference customers (their row weights are respected).

        Returns:
            ``self``.

        Raises:
            InvalidInputError: Bad hyperparameters or an empty summary.
        """
        self._check_parameters()
        require_summary(summary, owner="CommitmentTrustScorer.fit")
        if len(summary) == 0:
            raise InvalidInputError("CommitmentTrustScorer.fit needs at least one customer.")
        proxies = summary_proxies(summary)
        self.reference_tenure_ = proxies.tenure.copy()
        self.reference_repeat_rate_ = proxies.repeat_rate.copy()
        self.reference_weights_ = summary.row_weights.copy()
        return self

    def score(
        self,
        summary: CustomerSummary,
        /,
        *,
        touchpoints: TouchpointTable | None = None,
        survey: ConstructScores | None = None,
        survey_constructs: Mapping[str, str] | None = None,
    ) -> ScoreTable:
        """Score every customer of ``summary``, one row each in summary order.

        Args:
            summary: The customers to score.
            touchpoints: A touchpoint log for the trust proxies (optional).
            survey: Construct scores whose respondent ids are customer ids (optional).
            survey_constructs: Which constructs of ``survey`` are trust and commitment
                (default ``{"trust": "trust", "commitment": "commitment"}``).

        Returns:
            The score table (columns described in the class docstring).

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: A ``summary`` that is not a
                [`CustomerSummary`][relmark.data.summary.CustomerSummary], ids of a different type than the summary's, or survey constructs
                missing.
        """
        self._check_fitted("score")
        self._check_parameters()
        require_summary(summary, owner="CommitmentTrustScorer.score")
        n = len(summary)
        commitment = summary_proxies(
            summary,
            reference_tenure=self.reference_tenure_,
            reference_repeat_rate=self.reference_repeat_rate_,
            reference_weights=self.reference_weights_,
        )
        trust = np.full((n, len(TRUST_PROXIES)), np.nan)
        if touchpoints is not None:
            proxies = touchpoint_proxies(
                touchpoints,
                resolution_half_life_days=float(self.resolution_half_life_days),
                response_window_days=float(self.response_window_days),
            )
            index = _lookup(proxies.counterpart_id, summary.customer_id, "touchpoint")
            trust = np.column_stack([_gather(col, index) for col in proxies.matrix().T])
        commitment_matrix = commitment.matrix()
        commitment_index, commitment_count = mean_of_available(commitment_matrix)
        trust_index, trust_count = mean_of_available(trust)
        survey_trust = np.full(n, np.nan)
        survey_commitment = np.full(n, np.nan)
        if survey is not None:
            names = {"trust": "trust", "commitment": "commitment", **(survey_constructs or {})}
            index = _lookup(survey.respondent_id, summary.customer_id, "survey respondent")
            survey_trust = _gather(survey.index(names["trust"]), index)
            survey_commitment = _gather(survey.index(names["commitment"]), index)
        columns: dict[str, Any] = {
            name: commitment_matrix[:, j] for j, name in enumerate(COMMITMENT_PROXIES)
        }
        columns["behavioural_commitment_index"] = 100.0 * commitment_index
        columns["commitment_proxy_count"] = commitment_count
        columns.update({name: trust[:, j] for j, name in enumerate(TRUST_PROXIES)})
        columns["behavioural_trust_index"] = 100.0 * trust_index
        columns["trust_proxy_count"] = trust_count
        columns["survey_trust_index"] = survey_trust
        columns["survey_commitment_index"] = survey_commitment
        return ScoreTable.from_columns(summary.customer_id, columns, _columns_info())
