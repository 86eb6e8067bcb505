"""ParetoNBD's conditional purchase probabilities through the shared model methods."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv import ParetoNBD
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_cdnow_sample_summary
from relmark.errors import InvalidInputError, NotFittedError


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_sample_summary()


@pytest.fixture(scope="module")
def model():
    return ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669, unit="W")


def test_distribution_over_k_sums_to_one_with_mean_equal_to_expected_purchases(model, cdnow):
    """For every 10th CDNOW customer the probabilities over k sum to 1 and average to the CET."""
    sample = cdnow.take(np.arange(0, len(cdnow), 10))
    pmf = model.probability_of_purchases_conditional(np.arange(120), 39, sample)
    assert pmf.shape == (len(sample), 120)
    np.testing.assert_allclose(
        pmf[:, 3], model.probability_of_purchases_conditional(3, 39, sample), rtol=1e-12
    )
    np.testing.assert_allclose(pmf.sum(axis=1), 1.0, atol=1e-10)
    np.testing.assert_allclose(
        pmf @ np.arange(120.0), model.expected_purchases(39, sample), rtol=1e-9, atol=1e-12
    )


def test_any_purchase_complements_zero_purchases_and_grows_with_the_horizon(model, cdnow):
    """P(buy in the next t) = 1 - P(0 purchases), in [0, 1], non-decreasing in t."""
    quarter = model.probability_of_any_purchase(13, cdnow)
    np.testing.assert_allclose(
        quarter, 1.0 - model.probability_of_purchases_conditional(0, 13, cdnow), atol=1e-12
    )
    year = model.probability_of_any_purchase(52, cdnow)
    assert np.all((quarter >= 0) & (year <= 1) & (year >= quarter))
    assert np.all(year <= model.probability_alive(cdnow) + 1e-15)


def test_summary_in_days_gives_the_same_probabilities(model, cdnow):
    """A summary in days is converted to the model's weeks before evaluation."""
    days = CustomerSummary.from_arrays(cdnow.frequency, cdnow.recency * 7, cdnow.T * 7, unit="D")
    np.testing.assert_allclose(
        model.probability_of_any_purchase(10, days),
        model.probability_of_any_purchase(10, cdnow),
        rtol=1e-12,
    )


def test_per_customer_horizons_and_compressed_rows(model, cdnow):
    """One horizon per customer equals evaluating each customer alone; rows give per-row values."""
    sample = cdnow.take(np.arange(40))
    horizons = np.linspace(1.0, 80.0, 40)
    together = model.probability_of_any_purchase(horizons, sample)
    alone = [
        model.probability_of_any_purchase(h, sample.take([i]))[0] for i, h in enumerate(horizons)
    ]
    np.testing.assert_allclose(together, alone, rtol=1e-13)
    rows = sample.compress()
    np.testing.assert_allclose(
        model.probability_of_any_purchase(26, rows)[rows.inverse],
        model.probability_of_any_purchase(26, sample),
        rtol=1e-14,
    )


@pytest.mark.parametrize(
    ("k", "t", "message"),
    [
        ([[0, 1]], 10, "'k'"),
        (1.5, 10, "'k'.*whole"),
        (-1, 10, "'k'"),
        (1, [10, 20], "'t'"),
        (1, -3, "'t'"),
        (1, float("nan"), "'t'"),
    ],
)
def test_bad_arguments_are_refused_by_name(model, cdnow, k, t, message):
    """k must be whole numbers >= 0 and t horizons >= 0 (one, or one per customer)."""
    with pytest.raises(InvalidInputError, match=message):
        model.probability_of_purchases_conditional(k, t, cdnow)


def test_not_fitted_raises(cdnow):
    """Before fit the conditional probabilities raise NotFittedError."""
    with pytest.raises(NotFittedError):
        ParetoNBD().probability_of_any_purchase(10, cdnow)
