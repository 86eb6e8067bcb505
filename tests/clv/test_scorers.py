"""CLV scorers: conformance, registry wiring, agreement with the models and with lifetimes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.clv import BGNBD, GammaGamma, customer_lifetime_value
from relmark.clv.mbgnbd import MBGNBD
from relmark.clv.paretonbd import ParetoNBD
from relmark.clv.scorers import CLV_TIERS, CLVScorer, TransactionModelScorer
from relmark.core.quantiles import weighted_quantile
from relmark.data.summary import CustomerSummary
from relmark.data.table import ColumnKind
from relmark.data.units import TimeUnit
from relmark.datasets import load_cdnow_sample_summary
from relmark.errors import InvalidInputError, NotFittedError
from relmark.io import from_json, to_json
from relmark.rfm import RFMScorer
from relmark.scoring import get_scorer, score
from relmark.testing import check_scorer
from relmark.trust.scorer import CommitmentTrustScorer


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    return load_cdnow_sample_summary()


@pytest.fixture(scope="module")
def small(cdnow: CustomerSummary) -> CustomerSummary:
    # Every 8th CDNOW customer: 295 customers, about 120 of them repeat buyers.
    return cdnow.take(np.arange(0, len(cdnow), 8))


@pytest.fixture(scope="module")
def clv_scorer(cdnow: CustomerSummary) -> CLVScorer:
    return CLVScorer(horizon=12, unit="M", discount_rate=0.01).fit(cdnow)


@pytest.mark.parametrize(
    ("name", "cls", "hyperparameters"),
    [
        ("bgnbd", TransactionModelScorer, {}),
        ("mbgnbd", TransactionModelScorer, {"horizon": 13, "unit": "M"}),
        ("paretonbd", TransactionModelScorer, {"unit": TimeUnit.QUARTER, "horizon": 2}),
        ("clv", CLVScorer, {}),
        ("clv", CLVScorer, {"transaction_model": "mbgnbd", "margin": 0.3, "unit": "W"}),
        ("clv", CLVScorer, {"unit": TimeUnit.QUARTER, "horizon": 4}),
        ("commitment_trust", CommitmentTrustScorer, {}),
    ],
)
def test_registered_scorers_pass_the_conformance_kit(name, cls, hyperparameters, small):
    """Each built-in name builds its class, which passes check_scorer on CDNOW customers."""
    scorer = get_scorer(name, **hyperparameters)
    assert type(scorer) is cls
    if cls is TransactionModelScorer:
        assert scorer.model == name
    check_scorer(scorer, small)


def test_a_model_name_fixes_the_model_of_its_scorer():
    """get_scorer("paretonbd") presets model; passing model= to it is refused, not overridden."""
    assert get_scorer("paretonbd", horizon=26).get_params() == {
        "model": "paretonbd",
        "horizon": 26,
        "unit": "W",
        "penalizer": 0.0,
    }
    with pytest.raises(InvalidInputError, match=r"takes no 'model' parameter \(got 'bgnbd'\)"):
        get_scorer("paretonbd", model="bgnbd")


@pytest.mark.parametrize("scorer", [TransactionModelScorer(), CLVScorer()])
def test_scoring_before_fit_raises_not_fitted(scorer, small):
    """score before fit raises NotFittedError naming the class and the method."""
    name = type(scorer).__name__
    with pytest.raises(NotFittedError, match=rf"^This {name} is not fitted yet: {name}\.score"):
        scorer.score(small)


def test_a_time_unit_and_its_code_give_the_same_scores(small):
    """unit=TimeUnit.MONTH and unit="M" are the same hyperparameter for both scorers."""
    for make in (TransactionModelScorer, CLVScorer):
        by_enum = make(unit=TimeUnit.MONTH, horizon=6).fit(small).score(small)
        by_code = make(unit="M", horizon=6).fit(small).score(small)
        assert by_enum == by_code


def test_both_scorers_mean_the_same_window_by_horizon_and_unit(clv_scorer, cdnow):
    """expected_purchases of CLVScorer(horizon=12, unit="M") equals the transaction scorer's."""
    alone = TransactionModelScorer(horizon=12, unit="M").fit(cdnow).score(cdnow)
    np.testing.assert_array_equal(
        alone["expected_purchases"], clv_scorer.score(cdnow)["expected_purchases"]
    )
    assert alone.info["expected_purchases"] == clv_scorer.score(cdnow).info["expected_purchases"]


def test_rescoring_the_fitted_customers_reuses_the_fit_and_changes_no_bit(small, monkeypatch):
    """score on the fitted summary, or on blocks of it, evaluates no model; values are exact."""
    import relmark.clv.scorers as scorers_module

    scorer = CLVScorer(transaction_model="paretonbd").fit(small)
    fresh = CLVScorer(transaction_model="paretonbd").fit(small)
    del fresh.__dict__["_fitted_rows"]  # what a scorer without the fit's work computes
    expected = fresh.score(small)
    calls: list[int] = []
    original = scorers_module._discounted_purchases

    def counting(model, rows, **kwargs):
        calls.append(len(rows))
        return original(model, rows, **kwargs)

    monkeypatch.setattr(scorers_module, "_discounted_purchases", counting)
    assert scorer.score(small) == expected
    order = np.random.default_rng(3).permutation(len(small))
    for block in np.array_split(order, 3):
        part = scorer.score(small.take(block))
        assert part == expected.take(block)
    assert calls == []
    # A mix of fitted customers and unseen ones (T moved by one week): only the unseen rows
    # are computed, and every value is what a scorer without the fit's work gives.
    seen = small.take(np.arange(5, 10))
    unseen = small.take(np.arange(5))
    mixed = CustomerSummary.from_arrays(
        np.concatenate([seen.frequency, unseen.frequency]),
        np.concatenate([seen.recency, unseen.recency]),
        np.concatenate([seen.T, unseen.T + 1.0]),
        monetary=np.concatenate([seen.monetary, unseen.monetary]),
        unit="W",
    )
    got = scorer.score(mixed)
    assert calls == [len(unseen.compress())]
    assert got == fresh.score(mixed)


def test_changed_hyperparameters_are_not_served_from_the_fit(small):
    """After set_params(discount_rate=...) the CLV is recomputed, not taken from fit's work."""
    scorer = CLVScorer().fit(small)
    before = scorer.score(small)["clv"]
    scorer.set_params(discount_rate=0.05)
    after = scorer.score(small)["clv"]
    expected = CLVScorer(discount_rate=0.05).fit(small).score(small)["clv"]
    assert (after < before).any()
    np.testing.assert_allclose(after, expected, rtol=1e-12)


def test_paretonbd_clv_passes_the_conformance_kit(small):
    """A CLV scorer on the Pareto/NBD passes check_scorer too."""
    check_scorer(CLVScorer(transaction_model="paretonbd"), small)


@pytest.mark.parametrize(
    ("name", "model_type", "literature_name"),
    [
        ("bgnbd", BGNBD, "BG/NBD"),
        ("mbgnbd", MBGNBD, "MBG/NBD"),
        ("paretonbd", ParetoNBD, "Pareto/NBD"),
    ],
)
def test_transaction_scorer_equals_direct_model_calls(name, model_type, literature_name, small):
    """Columns equal the model's own P(alive) and CET, with the horizon converted to its unit."""
    scorer = TransactionModelScorer(model=name, horizon=1, unit="Y", penalizer=0.01).fit(small)
    table = scorer.score(small)
    model = model_type(penalizer=0.01).fit(small)
    assert scorer.model_.params_ == model.params_
    year_in_weeks = 365.2425 / 7
    np.testing.assert_array_equal(table["probability_alive"], model.probability_alive(small))
    np.testing.assert_allclose(
        table["expected_purchases"], model.expected_purchases(year_in_weeks, small), rtol=1e-14
    )
    assert "next 1 years" in table.info["expected_purchases"].description
    assert table.info["expected_purchases"].description.endswith(f"({literature_name}).")
    assert table.info["probability_alive"].description.endswith(f"({literature_name}).")
    assert table.info["expected_purchases"].unit == "purchases"
    assert table.info["probability_alive"].range == (0.0, 1.0)


def test_cdnow_fits_match_published_estimates(clv_scorer):
    """On CDNOW the CLV scorer's models find FHL 2005's BG/NBD and F&H 2013's Gamma-Gamma values."""
    bg = clv_scorer.transaction_model_.params_
    gg = clv_scorer.spend_model_.params_
    published_bg = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    published_gg = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    for name, value in published_bg.items():
        assert getattr(bg, name) == pytest.approx(value, abs=1e-3)
    for name, value in published_gg.items():
        assert getattr(gg, name) == pytest.approx(value, abs=1e-2)


def test_clv_description_names_the_model_as_the_literature_does(clv_scorer, cdnow):
    """The clv column's description says "BG/NBD purchases", not the class name."""
    description = clv_scorer.score(cdnow).info["clv"].description
    assert ": BG/NBD purchases times Gamma-Gamma spend" in description
    assert "BGNBD" not in description


def test_clv_columns_equal_an_explicit_period_sum(clv_scorer, cdnow):
    """CLV equals margin x spend x sum_k (E[X(k)] - E[X(k-1)]) / 1.01^k over 12 months, by hand."""
    table = clv_scorer.score(cdnow)
    bg = BGNBD.from_params(
        **{n: getattr(clv_scorer.transaction_model_.params_, n) for n in ("r", "alpha", "a", "b")},
        unit="W",
    )
    gg = GammaGamma().fit(cdnow)
    month = TimeUnit.MONTH.days / TimeUnit.WEEK.days
    spend = gg.expected_spend(cdnow)
    total = np.zeros(len(cdnow))
    previous = np.zeros(len(cdnow))
    for k in range(1, 13):
        current = bg.expected_purchases(k * month, cdnow)
        total += (current - previous) / 1.01**k
        previous = current
    np.testing.assert_allclose(table["expected_spend"], spend, rtol=1e-8)
    np.testing.assert_allclose(table["clv"], spend * total, rtol=1e-8)
    np.testing.assert_allclose(table["expected_purchases"], previous, rtol=1e-12)
    np.testing.assert_array_equal(table["probability_alive"], bg.probability_alive(cdnow))


@pytest.mark.oracle
def test_clv_scorer_agrees_with_lifetimes(clv_scorer, cdnow):
    """P(alive), expected spend and CLV equal lifetimes' fitters given the scorer's parameters.

    lifetimes steps months of 30 time units; the customers are given to it in units of 1/30 of
    our month (alpha rescaled alike), so both value the same 12 months.
    """
    pd = pytest.importorskip("pandas")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    table = clv_scorer.score(cdnow)
    bg = clv_scorer.transaction_model_.params_
    gg = clv_scorer.spend_model_.params_
    scale = 30.0 / (TimeUnit.MONTH.days / TimeUnit.WEEK.days)
    their_bg = BetaGeoFitter()
    their_bg.params_ = pd.Series({"r": bg.r, "alpha": bg.alpha * scale, "a": bg.a, "b": bg.b})
    their_bg.predict = their_bg.conditional_expected_number_of_purchases_up_to_time
    their_gg = GammaGammaFitter()
    their_gg.params_ = pd.Series({"p": gg.p, "q": gg.q, "v": gg.gamma})
    x = pd.Series(cdnow.frequency)
    t_x, age = pd.Series(cdnow.recency * scale), pd.Series(cdnow.T * scale)
    monetary = pd.Series(cdnow.monetary)
    np.testing.assert_allclose(
        table["probability_alive"],
        their_bg.conditional_probability_alive(x, t_x, age),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        table["expected_spend"],
        their_gg.conditional_expected_average_profit(x, monetary).to_numpy(),
        rtol=1e-6,
    )
    theirs = their_gg.customer_lifetime_value(
        their_bg, x, t_x, age, monetary, time=12, discount_rate=0.01, freq="D"
    )
    np.testing.assert_allclose(table["clv"], theirs.to_numpy(), rtol=1e-6)


def test_clv_tiers_follow_the_fitted_terciles(clv_scorer, cdnow):
    """Cuts are numpy's inverted-CDF terciles of the fitted CLV; tiers apply them as documented."""
    table = clv_scorer.score(cdnow)
    clv = table["clv"]
    low_cut, high_cut = np.quantile(clv, [1 / 3, 2 / 3], method="inverted_cdf")
    np.testing.assert_array_equal(clv_scorer.clv_tier_cuts_, [low_cut, high_cut])
    assert low_cut < high_cut
    expected = np.where(clv < low_cut, "low", np.where(clv >= high_cut, "high", "medium"))
    np.testing.assert_array_equal(table["clv_tier"], expected)
    assert set(table["clv_tier"].tolist()) == set(CLV_TIERS)
    assert table.info["clv_tier"].kind is ColumnKind.STRING
    assert table.info["clv"].unit == "currency"


def test_weighted_rows_tier_like_repeated_customers(small):
    """A summary with row weights gets the same models and cut points as its rows repeated."""
    counts = np.random.default_rng(7).integers(1, 4, len(small))
    weighted = CustomerSummary.from_arrays(
        small.frequency,
        small.recency,
        small.T,
        monetary=small.monetary,
        weights=counts.astype(np.float64),
        unit="W",
    )
    repeated = weighted.take(np.repeat(np.arange(len(small)), counts))
    repeated = CustomerSummary.from_arrays(
        repeated.frequency, repeated.recency, repeated.T, monetary=repeated.monetary, unit="W"
    )
    a = CLVScorer().fit(weighted)
    b = CLVScorer().fit(repeated)
    np.testing.assert_allclose(
        a.transaction_model_.summary().estimate, b.transaction_model_.summary().estimate, rtol=1e-6
    )
    np.testing.assert_allclose(
        a.spend_model_.summary().estimate, b.spend_model_.summary().estimate, rtol=1e-6
    )
    # Cut points are CLV values of actual customers: same customer, same value, up to the fits.
    np.testing.assert_allclose(a.clv_tier_cuts_, b.clv_tier_cuts_, rtol=1e-5)
    assert not np.allclose(a.clv_tier_cuts_, CLVScorer().fit(small).clv_tier_cuts_, rtol=1e-5)


def test_pipeline_joins_rfm_and_clv(cdnow):
    """score(summary, ["rfm", "clv"]) holds both scorers' columns, equal to separate runs."""
    table = score(cdnow, ["rfm", "clv"], params={"clv": {"horizon": 6}})
    rfm = RFMScorer().fit(cdnow).score(cdnow)
    clv = CLVScorer(horizon=6).fit(cdnow).score(cdnow)
    assert table.columns == rfm.columns + clv.columns
    assert table == rfm.join(clv)
    frame = table.to_frame("pandas")
    assert list(frame.columns) == ["customer_id", *table.columns]


def test_json_round_trip_keeps_the_models(clv_scorer, cdnow):
    """The restored scorer holds equal fitted models, with their fit statistics."""
    back = from_json(to_json(clv_scorer), CLVScorer)
    assert type(back.transaction_model_) is BGNBD
    assert back.transaction_model_.params_ == clv_scorer.transaction_model_.params_
    assert back.transaction_model_.fit_ == clv_scorer.transaction_model_.fit_
    assert back.spend_model_.params_ == clv_scorer.spend_model_.params_
    assert back.score(cdnow) == clv_scorer.score(cdnow)


def test_scoring_in_another_unit_gives_the_same_values(clv_scorer, cdnow):
    """A summary in days scores like the same customers in weeks."""
    days = CustomerSummary.from_arrays(
        cdnow.frequency,
        cdnow.recency * 7,
        cdnow.T * 7,
        monetary=cdnow.monetary,
        customer_id=cdnow.customer_id,
        unit="D",
    )
    weeks, in_days = clv_scorer.score(cdnow), clv_scorer.score(days)
    for column in ("probability_alive", "expected_purchases", "clv"):
        np.testing.assert_allclose(in_days[column], weeks[column], rtol=1e-9)


@pytest.mark.parametrize(
    ("scorer", "match"),
    [
        (CLVScorer(transaction_model="bg"), "'transaction_model' parameter of CLVScorer"),
        (CLVScorer(horizon=2.5), "'horizon' parameter of CLVScorer.*Got 2.5"),
        (CLVScorer(unit="months"), "'unit' parameter of CLVScorer.*Got 'months'"),
        (CLVScorer(discount_rate=-0.1), "'discount_rate' parameter of CLVScorer.*Got -0.1"),
        (CLVScorer(margin=float("nan")), "'margin' parameter of CLVScorer"),
        (CLVScorer(spend_penalizer=-1), "'spend_penalizer' parameter of CLVScorer.*Got -1"),
        (
            TransactionModelScorer(horizon=0),
            "'horizon' parameter of TransactionModelScorer.*> 0. Got 0",
        ),
        (
            TransactionModelScorer(model="paretonbd", penalizer=True),
            "'penalizer' parameter of TransactionModelScorer",
        ),
        (
            TransactionModelScorer(model="pareto_nbd"),
            (
                "'model' parameter of TransactionModelScorer must be a registered transaction model, "
                "one of 'bgnbd', 'mbgnbd', 'paretonbd'. Got 'pareto_nbd'"
            ),
        ),
    ],
)
def test_bad_hyperparameters_are_rejected_at_fit(scorer, match, small):
    """Each bad hyperparameter raises at fit, naming the parameter, the class and the value."""
    with pytest.raises(InvalidInputError, match=match):
        scorer.fit(small)


def test_clv_needs_monetary(small):
    """A summary without monetary is refused by fit and score, saying what is missing."""
    bare = CustomerSummary.from_arrays(small.frequency, small.recency, small.T)
    with pytest.raises(InvalidInputError, match=r"CLVScorer.fit needs the summary's 'monetary'"):
        CLVScorer().fit(bare)
    fitted = CLVScorer().fit(small)
    with pytest.raises(InvalidInputError, match=r"CLVScorer.score needs the summary's 'monetary'"):
        fitted.score(bare)


@given(
    values=st.lists(
        st.floats(0, 1e6, allow_nan=False) | st.sampled_from([0.0, 1.0, 5.0]),
        min_size=1,
        max_size=40,
    ),
    data=st.data(),
)
def test_tier_cut_points_are_numpys_weighted_inverted_cdf_quantiles(values, data):
    """The cut-point quantile equals numpy's weighted inverted-CDF quantile, ties included."""
    x = np.array(values)
    w = np.array(data.draw(st.lists(st.integers(1, 5), min_size=x.size, max_size=x.size)), float)
    for q in (1 / 3, 2 / 3):
        expected = np.quantile(x, q, weights=w, method="inverted_cdf")
        assert weighted_quantile(x, w, q) == expected


@pytest.mark.parametrize(
    ("transaction_model", "unit", "horizon"),
    [("bgnbd", "M", 12), ("bgnbd", "D", 7), ("mbgnbd", "Q", 3), ("paretonbd", "W", 5)],
)
def test_clv_scorer_columns_equal_the_public_methods_exactly(
    cdnow, transaction_model, unit, horizon
):
    """Sharing one model evaluation changes no bit: each column equals its public method."""
    scorer = CLVScorer(transaction_model=transaction_model, unit=unit, horizon=horizon)
    table = scorer.fit(cdnow).score(cdnow)
    model, spend = scorer.transaction_model_, scorer.spend_model_
    t = horizon * TimeUnit(unit).days / model.unit_.days
    np.testing.assert_array_equal(table["expected_purchases"], model.expected_purchases(t, cdnow))
    np.testing.assert_array_equal(table["probability_alive"], model.probability_alive(cdnow))
    np.testing.assert_array_equal(table["expected_spend"], spend.expected_spend(cdnow))
    clv = customer_lifetime_value(
        model, spend, cdnow, horizon=horizon, unit=unit, discount_rate=0.01
    )
    np.testing.assert_array_equal(table["clv"], clv)
