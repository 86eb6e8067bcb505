"""CommitmentTrustScorer: conformance, NaN for missing data, touchpoint and survey columns."""

from __future__ import annotations

import re

import numpy as np
import pytest

from relmark.data.summary import CustomerSummary
from relmark.data.touchpoints import TouchpointTable
from relmark.errors import InvalidInputError, NotFittedError
from relmark.io import from_json, to_json
from relmark.testing import check_scorer
from relmark.trust import (
    CommitmentTrustScorer,
    default_kmv_instrument,
    score_constructs,
    touchpoint_proxies,
)
from relmark.typing import Scorer


def summary(n: int = 40, seed: int = 0) -> CustomerSummary:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, n)
    T = rng.uniform(5, 50, n).round(1)
    t_x = np.where(x > 0, (T * rng.uniform(0, 1, n)).round(1), 0.0)
    return CustomerSummary.from_arrays(x, t_x, T, customer_id=[f"c{i}" for i in range(n)])


def log() -> TouchpointTable:
    t0 = np.datetime64("2024-03-01T10:00", "s")
    hour = np.timedelta64(3600, "s")
    return TouchpointTable.from_arrays(
        counterpart_id=["c1", "c1", "c2", "supplier-9"],
        at=np.array([t0, t0 + hour, t0, t0]),
        kind=["complaint", "complaint_resolution", "inquiry", "meeting"],
        direction=["inbound", "outbound", "inbound", "outbound"],
        resolved_at=np.array([t0 + 2 * hour, "NaT", "NaT", "NaT"], dtype="datetime64[s]"),
    )


def test_conforms_to_the_scorer_contract():
    """check_scorer passes: lifecycle, determinism, order invariance, JSON round trip, bad input."""
    check_scorer(CommitmentTrustScorer(resolution_half_life_days=5.0), summary())
    assert isinstance(CommitmentTrustScorer(), Scorer)


def test_weighted_summary_conforms():
    """A summary with row weights also conforms."""
    s = summary()
    weighted = CustomerSummary.from_arrays(
        s.frequency, s.recency, s.T, customer_id=s.customer_id, weights=np.arange(1.0, 41.0)
    )
    check_scorer(CommitmentTrustScorer(), weighted)


def test_score_before_fit_raises():
    """score before fit raises the shared NotFittedError naming the class and the fix."""
    with pytest.raises(
        NotFittedError,
        match=r"^This CommitmentTrustScorer is not fitted yet: CommitmentTrustScorer\.score "
        r"needs its fitted state\. Call fit\(summary\) first\.$",
    ):
        CommitmentTrustScorer().score(summary())
    scorer = CommitmentTrustScorer(response_window_days=1.0)
    assert repr(scorer) == "CommitmentTrustScorer(response_window_days=1.0)  # not fitted"
    assert repr(scorer.fit(summary())).endswith("  # fitted")


def test_bad_hyperparameter_message():
    """A non-positive half-life is refused in fit with the standard message."""
    with pytest.raises(
        InvalidInputError,
        match=re.escape(
            "The 'resolution_half_life_days' parameter of CommitmentTrustScorer must be a "
            "float > 0. Got -1."
        ),
    ):
        CommitmentTrustScorer(resolution_half_life_days=-1).fit(summary())
    for bad in (0, float("inf"), True, np.float64("nan"), "2"):
        with pytest.raises(InvalidInputError, match=r"'response_window_days' parameter .* > 0"):
            CommitmentTrustScorer(response_window_days=bad).fit(summary())


def test_summary_only_gives_nan_trust_with_zero_coverage():
    """Without touchpoints or survey the trust and survey columns are NaN and the coverage is 0."""
    table = CommitmentTrustScorer().fit(summary()).score(summary())
    assert np.isnan(table["behavioural_trust_index"]).all()
    assert (table["trust_proxy_count"] == 0).all()
    assert np.isnan(table["survey_trust_index"]).all()
    index = table["behavioural_commitment_index"]
    assert ((index >= 0) & (index <= 100)).all()


def test_commitment_index_is_mean_of_proxies():
    """The behavioural commitment index is 100 × the mean of the three commitment proxies."""
    table = CommitmentTrustScorer().fit(summary()).score(summary())
    proxies = np.column_stack(
        [table["tenure_percentile"], table["repeat_rate_percentile"], table["purchase_continuity"]]
    )
    np.testing.assert_allclose(table["behavioural_commitment_index"], 100 * proxies.mean(axis=1))


def test_touchpoints_fill_trust_columns_of_matching_customers():
    """Customers with touchpoints get the proxies of touchpoint_proxies; others stay NaN."""
    s = summary()
    table = CommitmentTrustScorer().fit(s).score(s, touchpoints=log())
    proxies = touchpoint_proxies(log())
    c1 = list(s.customer_id).index("c1")
    assert table["complaint_resolution_rate"][c1] == 1.0
    assert table["responsiveness"][c1] == 1.0
    assert table["communication_balance"][c1] == proxies.communication_balance[0]
    assert table["trust_proxy_count"][c1] == 4
    c2 = list(s.customer_id).index("c2")
    assert table["responsiveness"][c2] == 0.0
    assert table["trust_proxy_count"][c2] == 2
    c3 = list(s.customer_id).index("c3")
    assert np.isnan(table["behavioural_trust_index"][c3])


def test_survey_indices_for_respondents():
    """Surveyed customers get their 0-100 trust and commitment indices; others NaN."""
    kmv = default_kmv_instrument()
    answers = {code: [7.0, 1.0] for code in kmv.item_codes}
    for construct in kmv.constructs:
        for item in construct.items:
            if item.reverse_keyed:
                answers[item.code] = [1.0, 7.0]
    survey = score_constructs(kmv, answers, respondent_id=["c5", "c6"])
    s = summary()
    table = CommitmentTrustScorer().fit(s).score(s, survey=survey)
    ids = list(s.customer_id)
    assert table["survey_trust_index"][ids.index("c5")] == 100.0
    assert table["survey_commitment_index"][ids.index("c6")] == 0.0
    assert np.isnan(table["survey_trust_index"][ids.index("c7")])


def test_mismatched_id_types_are_refused():
    """Integer customer ids against string touchpoint ids would never match: an error, not NaN."""
    s = CustomerSummary.from_arrays([1, 2], [1.0, 2.0], [3.0, 3.0])
    scorer = CommitmentTrustScorer().fit(s)
    with pytest.raises(InvalidInputError, match="different types"):
        scorer.score(s, touchpoints=log())


def test_json_round_trip_of_fitted_state():
    """The fitted reference distributions survive to_json / from_json exactly."""
    scorer = CommitmentTrustScorer(response_window_days=1.0).fit(summary())
    restored = from_json(to_json(scorer), CommitmentTrustScorer)
    np.testing.assert_array_equal(restored.reference_tenure_, scorer.reference_tenure_)
    np.testing.assert_array_equal(restored.reference_repeat_rate_, scorer.reference_repeat_rate_)
    assert restored.response_window_days == 1.0


def test_fit_and_score_refuse_what_is_not_a_summary():
    """A list instead of a summary is named with the method it was given to."""
    with pytest.raises(
        InvalidInputError, match=r"'summary' argument of CommitmentTrustScorer\.fit must be a Cus"
    ):
        CommitmentTrustScorer().fit([1, 2])  # type: ignore[arg-type]
    fitted = CommitmentTrustScorer().fit(summary())
    with pytest.raises(
        InvalidInputError, match=r"CommitmentTrustScorer\.score must be a .* Got dict"
    ):
        fitted.score({})  # type: ignore[arg-type]
