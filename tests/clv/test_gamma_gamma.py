"""GammaGamma estimator: published CDNOW oracle, lifetimes agreement, assumption warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from relmark.clv import GammaGamma, GammaGammaParams
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_cdnow_sample_summary
from relmark.errors import InvalidInputError, ModelAssumptionWarning, NotFittedError


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_sample_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return GammaGamma().fit(cdnow)


def test_cdnow_fit_matches_published_estimates(fitted):
    """On the 946 CDNOW repeaters: p=6.25, q=3.74, gamma=15.44, LL=-4055.9 (Fader & Hardie 2013)."""
    p = fitted.params_
    assert (p.p, p.q, p.gamma) == pytest.approx((6.25, 3.74, 15.44), abs=0.01)
    assert fitted.log_likelihood_ == pytest.approx(-4055.9, abs=0.05)
    assert fitted.fit_ is not None
    assert fitted.fit_.n_observations == 946


def test_customers_without_repeats_get_population_mean(fitted, cdnow):
    """Zero-frequency customers are predicted the population mean p*gamma/(q-1)."""
    spend = fitted.expected_spend(cdnow)
    p = fitted.params_
    zero = cdnow.frequency == 0
    np.testing.assert_allclose(spend[zero], p.p * p.gamma / (p.q - 1), rtol=1e-14)


@pytest.mark.oracle
def test_expected_spend_agrees_with_lifetimes(cdnow):
    """Conditional expected spend equals lifetimes' GammaGammaFitter to 1e-6 relative."""
    pd = pytest.importorskip("pandas")
    from lifetimes import GammaGammaFitter

    rng = np.random.default_rng(8)
    for _ in range(3):
        p, q, v = rng.uniform(0.5, 10), rng.uniform(1.5, 8), rng.uniform(1, 50)
        theirs = GammaGammaFitter()
        theirs.params_ = pd.Series({"p": p, "q": q, "v": v})
        ours = GammaGamma.from_params(p=p, q=q, gamma=v)
        np.testing.assert_allclose(
            ours.expected_spend(cdnow),
            theirs.conditional_expected_average_profit(cdnow.frequency, cdnow.monetary),
            rtol=1e-6,
        )


@pytest.mark.oracle
def test_fit_agrees_with_lifetimes(cdnow, fitted):
    """lifetimes' GammaGammaFitter finds the same estimates on the CDNOW repeaters to 1e-4."""
    from lifetimes import GammaGammaFitter

    repeat = cdnow.frequency > 0
    theirs = GammaGammaFitter().fit(cdnow.frequency[repeat], cdnow.monetary[repeat])
    assert fitted.params_.p == pytest.approx(theirs.params_["p"], rel=1e-4)
    assert fitted.params_.q == pytest.approx(theirs.params_["q"], rel=1e-4)
    assert fitted.params_.gamma == pytest.approx(theirs.params_["v"], rel=1e-4)


def test_correlated_spend_and_frequency_warn():
    """Spend that grows with frequency triggers a ModelAssumptionWarning naming the correlation."""
    rng = np.random.default_rng(1)
    x = rng.integers(1, 20, 400)
    spend = rng.gamma(3.0, 10.0, 400) * (1 + x / 2)
    s = CustomerSummary.from_arrays(x, np.ones(400), np.full(400, 2.0), monetary=spend)
    with pytest.warns(ModelAssumptionWarning, match="correlated"):
        GammaGamma().fit(s)


def test_cdnow_fit_does_not_warn(cdnow):
    """CDNOW frequency and spend are nearly uncorrelated, so fitting is silent."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GammaGamma().fit(cdnow)


def test_missing_monetary_and_too_few_repeaters_are_rejected():
    """A summary without monetary, or with fewer than 3 repeat customers, is refused with a reason."""
    s = CustomerSummary.from_arrays([1, 2], [1.0, 2.0], [3.0, 3.0])
    with pytest.raises(InvalidInputError, match="no 'monetary' column"):
        GammaGamma().fit(s)
    s = CustomerSummary.from_arrays([1, 0], [1.0, 0.0], [3.0, 3.0], monetary=[5.0, 0.0])
    with pytest.raises(InvalidInputError, match="at least 3"):
        GammaGamma().fit(s)
    with pytest.raises(NotFittedError):
        GammaGamma().expected_spend(s)


def test_json_round_trip(fitted, cdnow):
    """relmark.io writes and reads back the fitted spend model exactly."""
    from relmark.io import from_json, to_json

    back = from_json(to_json(fitted), GammaGamma)
    assert isinstance(back.params_, GammaGammaParams)
    assert back.params_ == fitted.params_
    np.testing.assert_array_equal(back.covariance_, fitted.covariance_)
    np.testing.assert_array_equal(back.expected_spend(cdnow), fitted.expected_spend(cdnow))
