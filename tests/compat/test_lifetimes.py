"""Tests of relmark.compat.lifetimes: lifetimes' Quickstart on the shim, against lifetimes itself."""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relmark.compat import lifetimes as shim
from relmark.datasets import load_cdnow, load_cdnow_sample_summary, load_donations
from relmark.errors import InvalidInputError, NotFittedError

GREGORIAN_MONTH_DAYS = 365.2425 / 12


# ------------------------------------------------------------------ the Quickstart's code
def quickstart(api, data, transaction_data, summary_with_money_value) -> dict[str, object]:
    """The code of lifetimes 0.11.3's Quickstart (docs/Quickstart.md) minus plots; returns results.

    ``api`` stands for the import lines: ``lifetimes`` and ``lifetimes.utils``, or the shim.
    Only the lines that draw plots are left out (their numbers are recorded instead).
    """
    out: dict[str, object] = {}
    bgf = api.BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(data["frequency"], data["recency"], data["T"])
    out["repr"] = repr(bgf)
    out["params"] = bgf.params_.copy()
    out["summary"] = bgf.summary

    t = 1
    data["predicted_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        t, data["frequency"], data["recency"], data["T"]
    )
    out["top5"] = data.sort_values(by="predicted_purchases").tail(5)
    # plot_probability_alive_matrix(bgf) draws P(alive); its numbers:
    out["p_alive"] = bgf.conditional_probability_alive(
        data["frequency"], data["recency"], data["T"]
    )

    summary = api.summary_data_from_transaction_data(
        transaction_data, "id", "date", observation_period_end="2014-12-31"
    )
    out["transactions_summary"] = summary
    bgf.fit(summary["frequency"], summary["recency"], summary["T"])
    out["params_transactions"] = bgf.params_.copy()

    summary_cal_holdout = api.calibration_and_holdout_data(
        transaction_data,
        "id",
        "date",
        calibration_period_end="2014-09-01",
        observation_period_end="2014-12-31",
    )
    out["cal_holdout"] = summary_cal_holdout
    bgf.fit(
        summary_cal_holdout["frequency_cal"],
        summary_cal_holdout["recency_cal"],
        summary_cal_holdout["T_cal"],
    )
    out["params_calibration"] = bgf.params_.copy()
    # plot_calibration_purchases_vs_holdout_purchases(bgf, summary_cal_holdout) plots these:
    out["holdout_predictions"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        summary_cal_holdout["duration_holdout"],
        summary_cal_holdout["frequency_cal"],
        summary_cal_holdout["recency_cal"],
        summary_cal_holdout["T_cal"],
    )

    t = 10
    individual = summary.iloc[20]
    out["individual"] = bgf.predict(
        t, individual["frequency"], individual["recency"], individual["T"]
    )

    returning_customers_summary = summary_with_money_value[
        summary_with_money_value["frequency"] > 0
    ]
    ggf = api.GammaGammaFitter(penalizer_coef=0)
    ggf.fit(returning_customers_summary["frequency"], returning_customers_summary["monetary_value"])
    out["gg_repr"] = repr(ggf)
    out["gg_params"] = ggf.params_.copy()
    out["profit"] = ggf.conditional_expected_average_profit(
        summary_with_money_value["frequency"], summary_with_money_value["monetary_value"]
    )
    bgf.fit(
        summary_with_money_value["frequency"],
        summary_with_money_value["recency"],
        summary_with_money_value["T"],
    )
    out["clv"] = ggf.customer_lifetime_value(
        bgf,
        summary_with_money_value["frequency"],
        summary_with_money_value["recency"],
        summary_with_money_value["T"],
        summary_with_money_value["monetary_value"],
        time=12,
        discount_rate=0.01,
    )
    out["bgf"], out["ggf"] = bgf, ggf
    return out


def shim_api() -> types.SimpleNamespace:
    """The Quickstart's imports, each from relmark.compat.lifetimes."""
    return types.SimpleNamespace(
        BetaGeoFitter=shim.BetaGeoFitter,
        GammaGammaFitter=shim.GammaGammaFitter,
        summary_data_from_transaction_data=shim.summary_data_from_transaction_data,
        calibration_and_holdout_data=shim.calibration_and_holdout_data,
    )


def relmark_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The Quickstart's three inputs built from relmark's own data sets (no lifetimes needed)."""
    s = load_cdnow_sample_summary()
    index = pd.Index(s.customer_id, name="ID")
    data = pd.DataFrame({"frequency": s.frequency, "recency": s.recency, "T": s.T}, index=index)
    money = data.assign(monetary_value=s.monetary)
    money.index.name = "customer_id"
    log = load_cdnow()
    # CDNOW's log spans 1997-98; shift it to 2014 so the Quickstart's dates apply unchanged.
    shift = np.datetime64("2014-01-01") - np.datetime64("1997-01-01")
    transactions = pd.DataFrame({"date": log.time + shift, "id": log.customer_id})
    return data, transactions, money


# ------------------------------------------------------------------ the shim on its own
def test_quickstart_runs_on_the_shim_and_recovers_published_cdnow_fits() -> None:
    """The Quickstart runs unchanged on the shim: FHL (2005) BG/NBD and F&H (2013) Gamma-Gamma values."""
    data, transactions, money = relmark_data()
    out = quickstart(shim_api(), data.copy(), transactions, money)
    params = out["params"]
    np.testing.assert_allclose(
        params[["r", "alpha", "a", "b"]], [0.243, 4.414, 0.793, 2.426], atol=6e-4
    )
    assert out["repr"] == (
        "<relmark.compat.lifetimes.BetaGeoFitter: fitted with 2357 subjects, "
        "a: 0.79, alpha: 4.41, b: 2.43, r: 0.24>"
    )
    # Fader & Hardie (2013) print two decimals (v = 15.44; the MLE is 15.448).
    np.testing.assert_allclose(out["gg_params"][["p", "q", "v"]], [6.25, 3.74, 15.44], atol=0.01)
    assert list(out["summary"].columns) == [
        "coef",
        "se(coef)",
        "lower 95% bound",
        "upper 95% bound",
    ]
    top5 = out["top5"]
    assert top5.index[-1] == 1516
    assert top5["predicted_purchases"].iloc[-1] == pytest.approx(0.7106, abs=1e-4)
    assert isinstance(out["individual"], float)
    assert out["clv"].name == "clv"
    assert out["clv"].index.equals(money.index)
    assert list(out["cal_holdout"].columns) == [
        "frequency_cal",
        "recency_cal",
        "T_cal",
        "frequency_holdout",
        "duration_holdout",
    ]


def test_predictions_keep_the_input_index_and_type() -> None:
    """Series in → Series with that index; arrays in → arrays; scalars in → a float."""
    s = load_cdnow_sample_summary()
    bgf = shim.BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    index = pd.Index(s.customer_id + 1000)
    series = bgf.conditional_probability_alive(
        pd.Series(s.frequency, index=index), pd.Series(s.recency, index=index), s.T
    )
    assert isinstance(series, pd.Series)
    assert series.index.equals(index)
    array = bgf.conditional_probability_alive(s.frequency, s.recency, s.T)
    assert isinstance(array, np.ndarray)
    np.testing.assert_array_equal(series.to_numpy(), array)
    one = bgf.predict(10, 2, 30.43, 38.86)
    assert isinstance(one, float)
    assert one == pytest.approx(float(bgf.predict(10, s.frequency, s.recency, s.T)[0]))
    per_horizon = bgf.predict(np.array([0.0, 5.0, 10.0]), 2, 30.43, 38.86)
    assert per_horizon.shape == (3,)
    assert per_horizon[0] == 0.0
    assert per_horizon[2] == pytest.approx(one)


def test_per_customer_horizons_match_one_horizon_at_a_time() -> None:
    """An array t as long as the customers is one horizon per customer (lifetimes' holdout call)."""
    s = load_cdnow_sample_summary()
    bgf = shim.BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    horizons = np.where(np.arange(len(s)) % 2 == 0, 10.0, 39.0)
    both = bgf.predict(horizons, s.frequency, s.recency, s.T)
    even, odd = (bgf.predict(t, s.frequency, s.recency, s.T) for t in (10.0, 39.0))
    np.testing.assert_allclose(both, np.where(np.arange(len(s)) % 2 == 0, even, odd), rtol=1e-12)


def test_unconditional_predictions_match_the_relmark_model() -> None:
    """expected_number_of_purchases_up_to_time and P(X(t)=n) are relmark's new-customer formulas."""
    s = load_cdnow_sample_summary()
    bgf = shim.BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    model = bgf.relmark_model_
    t = pd.Series([1.0, 10.0, 39.0], index=list("abc"))
    expected = bgf.expected_number_of_purchases_up_to_time(t)
    assert expected.index.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(expected, model.expected_purchases_new_customer(t.to_numpy()))
    assert bgf.probability_of_n_purchases_up_to_time(39.0, 0) == pytest.approx(
        float(model.probability_of_purchases(0.0, 39.0))
    )


def test_summary_intervals_are_relmarks_log_scale_intervals() -> None:
    """The summary's bounds are relmark's log-scale Wald intervals (positive), se the delta method."""
    s = load_cdnow_sample_summary()
    bgf = shim.BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    table = bgf.relmark_model_.summary()
    summary = bgf.summary
    np.testing.assert_array_equal(summary["lower 95% bound"], table.lower)
    np.testing.assert_array_equal(summary["se(coef)"], table.standard_error)
    assert (summary["lower 95% bound"] > 0).all()
    covariance = bgf.variance_matrix_.to_numpy()
    np.testing.assert_array_equal(covariance, covariance.T)


def test_weights_count_customers() -> None:
    """Weighted distinct rows fit like the expanded customers, and the repr counts subjects."""
    s = load_cdnow_sample_summary()
    rows = s.compress()
    weighted = shim.BetaGeoFitter().fit(rows.frequency, rows.recency, rows.T, weights=rows.weights)
    plain = shim.BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    np.testing.assert_allclose(weighted.params_, plain.params_, rtol=1e-6)
    assert "fitted with 2357 subjects" in repr(weighted)


def test_bgbb_fitter_on_donations_recovers_the_published_fit() -> None:
    """BetaGeoBetaBinomFitter on the 22 donation patterns gives FHS (2010) Table 2's estimates."""
    d = load_donations()
    bgbb = shim.BetaGeoBetaBinomFitter().fit(d.frequency, d.recency, d.T, weights=d.weights)
    np.testing.assert_allclose(bgbb.params_, [1.204, 0.750, 0.657, 2.783], atol=1e-3)
    counts = bgbb.expected_number_of_transactions_in_first_n_periods(6)
    assert counts.index.name == "frequency"
    assert counts["model"].sum() == pytest.approx(11_104)
    alive = bgbb.conditional_probability_alive(1, d.frequency, d.recency, d.T)
    assert np.all((alive > 0) & (alive < 1))


def test_lifetimes_semantics_that_relmark_does_not_offer_raise_clearly() -> None:
    """Unsupported options raise InvalidInputError naming them; unfitted use raises NotFittedError."""
    s = load_cdnow_sample_summary()
    with pytest.raises(NotFittedError, match="BetaGeoFitter is not fitted"):
        shim.BetaGeoFitter().predict(1.0, 1, 1.0, 2.0)
    assert repr(shim.ParetoNBDFitter()) == "<relmark.compat.lifetimes.ParetoNBDFitter>"
    with pytest.raises(InvalidInputError, match=r"\['maxiter'\]"):
        shim.BetaGeoFitter().fit(s.frequency, s.recency, s.T, maxiter=10)
    with pytest.raises(InvalidInputError, match="'q_constraint'"):
        shim.GammaGammaFitter().fit([1, 2], [3.0, 4.0], q_constraint=True)
    bgf = shim.BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    ggf = shim.GammaGammaFitter().fit(s.frequency, s.monetary)
    with pytest.raises(InvalidInputError, match="'freq' argument must be one of"):
        ggf.customer_lifetime_value(bgf, s.frequency, s.recency, s.T, s.monetary, freq="H")
    with pytest.raises(InvalidInputError, match="'transaction_prediction_model'"):
        ggf.customer_lifetime_value(object(), s.frequency, s.recency, s.T, s.monetary)
    frame = pd.DataFrame({"id": [1], "date": ["2024-01-01"]})
    with pytest.raises(InvalidInputError, match="'include_first_transaction'"):
        shim.calibration_and_holdout_data(
            frame, "id", "date", "2024-01-01", include_first_transaction=True
        )
    with pytest.raises(InvalidInputError, match="'freq_multiplier'"):
        shim.summary_data_from_transaction_data(frame, "id", "date", freq_multiplier=0)
    with pytest.raises(InvalidInputError, match="Column 'recency'"):
        shim.BetaGeoFitter().fit([1, 0], [2.0, 1.0], [1.0, 3.0])


def test_clv_uses_the_gregorian_month_of_the_data_unit() -> None:
    """CLV with freq="W" equals relmark's customer_lifetime_value in weeks and Gregorian months."""
    from relmark.clv import BGNBD, GammaGamma, customer_lifetime_value

    s = load_cdnow_sample_summary()
    bgf = shim.BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    ggf = shim.GammaGammaFitter().fit(s.frequency, s.monetary)
    clv = ggf.customer_lifetime_value(
        bgf, s.frequency, s.recency, s.T, s.monetary, time=12, discount_rate=0.01, freq="W"
    )
    bg = BGNBD.from_params(**bgf.params_.to_dict(), unit="W")
    p, q, v = ggf.params_
    expected = customer_lifetime_value(
        bg, GammaGamma.from_params(p=p, q=q, gamma=v), s, horizon=12, unit="M", discount_rate=0.01
    )
    np.testing.assert_allclose(clv.to_numpy(), expected, rtol=1e-12)


# ------------------------------------------------------------------ against lifetimes itself
def lifetimes_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The Quickstart's inputs as lifetimes.datasets loads them (read directly: pkg_resources is gone)."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets"
    data = pd.read_csv(folder / "cdnow_customers_summary.csv", index_col=[0])
    transactions = pd.read_csv(folder / "example_transactions.csv")
    money = pd.read_csv(folder / "cdnow_customers_summary_with_transactions.csv")
    money.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return data, transactions, money.set_index("customer_id")


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, object], dict[str, object]]:
    """The Quickstart run on lifetimes and on the shim, on lifetimes' own data."""
    lifetimes = pytest.importorskip("lifetimes")
    utils = pytest.importorskip("lifetimes.utils")

    def calibration_and_holdout_data(transactions, *args, **kwargs):
        # lifetimes' function fails on pandas 3 without an amount column ("No objects to
        # concatenate"): give it a zero amount column and drop the amount columns it adds.
        padded = transactions.assign(unused=0.0)
        out = utils.calibration_and_holdout_data(
            padded, *args, monetary_value_col="unused", **kwargs
        )
        return out.drop(columns=["monetary_value_cal", "monetary_value_holdout"])

    original = types.SimpleNamespace(
        BetaGeoFitter=lifetimes.BetaGeoFitter,
        GammaGammaFitter=lifetimes.GammaGammaFitter,
        summary_data_from_transaction_data=utils.summary_data_from_transaction_data,
        calibration_and_holdout_data=calibration_and_holdout_data,
    )
    data, transactions, money = lifetimes_data()
    theirs = quickstart(original, data.copy(), transactions, money)
    ours = quickstart(shim_api(), data.copy(), transactions, money)
    return ours, theirs


@pytest.mark.oracle
def test_quickstart_fits_match_lifetimes(both) -> None:
    """Every fit of the Quickstart agrees with lifetimes to 1e-4, standard errors to 1e-3."""
    ours, theirs = both
    for key in ("params", "params_transactions", "params_calibration", "gg_params"):
        pd.testing.assert_series_equal(ours[key], theirs[key], rtol=1e-4)
    pd.testing.assert_series_equal(
        ours["summary"]["se(coef)"], theirs["summary"]["se(coef)"], rtol=1e-3
    )
    assert ours["repr"].split(":", 1)[1] == theirs["repr"].split(":", 1)[1]


@pytest.mark.oracle
def test_quickstart_summaries_match_lifetimes(both) -> None:
    """The transaction summary and the calibration/holdout frame equal lifetimes' exactly."""
    ours, theirs = both
    for key in ("transactions_summary", "cal_holdout"):
        pd.testing.assert_frame_equal(ours[key], theirs[key], check_dtype=False, rtol=1e-12)


@pytest.mark.oracle
def test_quickstart_predictions_match_lifetimes(both) -> None:
    """Ranking, P(alive), holdout predictions and the single-customer prediction agree to 1e-5."""
    ours, theirs = both
    assert ours["top5"].index.tolist() == theirs["top5"].index.tolist()
    pd.testing.assert_frame_equal(ours["top5"], theirs["top5"], check_dtype=False, rtol=1e-5)
    np.testing.assert_allclose(ours["p_alive"], np.asarray(theirs["p_alive"]), rtol=1e-5)
    np.testing.assert_allclose(
        ours["holdout_predictions"], np.asarray(theirs["holdout_predictions"]), rtol=1e-5
    )
    assert ours["individual"] == pytest.approx(float(theirs["individual"]), rel=1e-5)
    pd.testing.assert_series_equal(ours["profit"], theirs["profit"], rtol=1e-5, check_names=False)


@pytest.mark.oracle
def test_quickstart_clv_is_lifetimes_method_with_the_gregorian_month(both) -> None:
    """CLV equals lifetimes' own sum with a 30.436875-day month; lifetimes' 30-day month differs.

    The Quickstart passes weekly CDNOW data with lifetimes' default freq="D", so both read T in
    days; lifetimes' month is 30 of them, relmark's 30.436875.
    """
    ours, theirs = both
    bgf, ggf = theirs["bgf"], theirs["ggf"]
    _, _, money = lifetimes_data()
    f, r, T = money["frequency"], money["recency"], money["T"]
    profit = ggf.conditional_expected_average_profit(f, money["monetary_value"])
    expected = np.zeros(len(money))
    for k in range(1, 13):
        later = bgf.predict(k * GREGORIAN_MONTH_DAYS, f, r, T)
        earlier = bgf.predict((k - 1) * GREGORIAN_MONTH_DAYS, f, r, T)
        expected += np.asarray(profit * (later - earlier)) / 1.01**k
    np.testing.assert_allclose(ours["clv"].to_numpy(), expected, rtol=1e-5)
    gap = np.abs(ours["clv"].to_numpy() / theirs["clv"].to_numpy() - 1)
    assert 1e-3 < gap.max() < 0.05


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("name", "rtol"),
    [("ModifiedBetaGeoFitter", 1e-4), ("ParetoNBDFitter", 1e-3)],
)
def test_other_fitters_match_lifetimes_on_cdnow(name: str, rtol: float) -> None:
    """MBG/NBD and Pareto/NBD fits and predictions agree with lifetimes on the CDNOW summary.

    lifetimes fits the Pareto/NBD with Nelder-Mead, whose stopping rule is loose: 1e-3 there.
    """
    lifetimes = pytest.importorskip("lifetimes")
    data, _, _ = lifetimes_data()
    f, r, T = data["frequency"], data["recency"], data["T"]
    ours = getattr(shim, name)().fit(f, r, T)
    theirs = getattr(lifetimes, name)().fit(f, r, T)
    pd.testing.assert_series_equal(ours.params_, theirs.params_[ours.params_.index], rtol=rtol)
    np.testing.assert_allclose(
        ours.conditional_expected_number_of_purchases_up_to_time(10.0, f, r, T),
        np.asarray(theirs.conditional_expected_number_of_purchases_up_to_time(10.0, f, r, T)),
        rtol=10 * rtol,
    )
    np.testing.assert_allclose(
        ours.conditional_probability_alive(f, r, T),
        np.asarray(theirs.conditional_probability_alive(f, r, T)),
        rtol=10 * rtol,
    )


@pytest.mark.oracle
def test_bgbb_fitter_matches_lifetimes_on_donations() -> None:
    """BG/BB fit and predictions agree with lifetimes' BetaGeoBetaBinomFitter on the donations."""
    lifetimes = pytest.importorskip("lifetimes")
    _, _, _ = lifetimes_data()
    d = load_donations()
    frame = pd.DataFrame({"x": d.frequency, "t_x": d.recency, "n": d.T, "w": d.weights})
    ours = shim.BetaGeoBetaBinomFitter().fit(frame["x"], frame["t_x"], frame["n"], frame["w"])
    theirs = lifetimes.BetaGeoBetaBinomFitter().fit(
        frame["x"], frame["t_x"], frame["n"], frame["w"]
    )
    pd.testing.assert_series_equal(ours.params_, theirs.params_[ours.params_.index], rtol=1e-4)
    np.testing.assert_allclose(
        ours.conditional_expected_number_of_purchases_up_to_time(
            5, frame["x"], frame["t_x"], frame["n"]
        ),
        np.asarray(
            theirs.conditional_expected_number_of_purchases_up_to_time(
                5, frame["x"], frame["t_x"], frame["n"]
            )
        ),
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        ours.expected_number_of_transactions_in_first_n_periods(6)["model"],
        theirs.expected_number_of_transactions_in_first_n_periods(6)["model"],
        rtol=1e-4,
    )


def test_summary_utilities_accept_a_polars_frame() -> None:
    """A polars transaction frame gives the same summary and calibration frames as pandas."""
    pl = pytest.importorskip("polars")
    _, transactions, _ = relmark_data()
    as_polars = pl.from_pandas(transactions)
    pd.testing.assert_frame_equal(
        shim.summary_data_from_transaction_data(as_polars, "id", "date", freq="W"),
        shim.summary_data_from_transaction_data(transactions, "id", "date", freq="W"),
    )
    pd.testing.assert_frame_equal(
        shim.calibration_and_holdout_data(as_polars, "id", "date", "2014-09-01", "2014-12-31"),
        shim.calibration_and_holdout_data(transactions, "id", "date", "2014-09-01", "2014-12-31"),
    )
