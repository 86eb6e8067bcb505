"""Horizon semantics and compressed-row inputs of the repeat-buying models' predictions."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from relmark.clv import BGNBD, MBGNBD, ParetoNBD
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_cdnow, load_cdnow_sample_summary
from relmark.errors import InvalidInputError

MODELS = [
    BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426),
    MBGNBD.from_params(r=0.525, alpha=6.183, a=0.891, b=1.614),
    ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669),
]
IDS = ["BGNBD", "MBGNBD", "ParetoNBD"]


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    return load_cdnow_sample_summary()


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_per_customer_horizons_equal_one_scalar_call_per_customer(model, cdnow):
    """A 1-D t as long as the summary gives customer i the value at t[i]."""
    rng = np.random.default_rng(3)
    t = rng.choice([1.0, 13.0, 39.0, 52.5], size=len(cdnow))
    for method in ("expected_purchases", "probability_alive_at"):
        values = getattr(model, method)(t, cdnow)
        assert values.shape == (len(cdnow),)
        for horizon in np.unique(t):
            chosen = t == horizon
            np.testing.assert_array_equal(
                values[chosen], getattr(model, method)(horizon, cdnow)[chosen]
            )


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_a_constant_per_customer_array_equals_the_scalar(model, cdnow):
    """Every customer at the same horizon, given as an array, equals the scalar call exactly."""
    np.testing.assert_array_equal(
        model.expected_purchases(np.full(len(cdnow), 39.0), cdnow),
        model.expected_purchases(39.0, cdnow),
    )


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_grid_columns_equal_scalar_calls(model, cdnow):
    """The grid methods return (customers, horizons), column j equal to the call at t[j]."""
    horizons = [0.0, 5.0, 52.0]
    grid = model.expected_purchases_grid(horizons, cdnow)
    alive = model.probability_alive_at_grid(horizons, cdnow)
    assert grid.shape == alive.shape == (len(cdnow), 3)
    for j, t in enumerate(horizons):
        np.testing.assert_allclose(grid[:, j], model.expected_purchases(t, cdnow), rtol=1e-14)
        np.testing.assert_allclose(alive[:, j], model.probability_alive_at(t, cdnow), rtol=1e-14)
    assert model.expected_purchases_grid(7.0, cdnow).shape == (len(cdnow), 1)


@pytest.mark.parametrize(
    "t", [[1.0, 2.0], np.ones(3), np.ones((4, 4)), np.ones((4, 1)), [[1.0]]], ids=str
)
def test_other_shapes_are_refused_naming_the_accepted_ones(t):
    """Anything but a number or one horizon per customer raises, pointing to the grid method."""
    model = MODELS[0]
    s = CustomerSummary.from_arrays([1, 0, 2, 3], [1.0, 0.0, 2.0, 3.0], [4.0, 4.0, 4.0, 4.0])
    for method in ("expected_purchases", "probability_alive_at"):
        with pytest.raises(InvalidInputError, match=r"one horizon per customer.*length 4.*_grid"):
            getattr(model, method)(t, s)


def test_grid_refuses_more_than_one_dimension():
    """The grid methods take a number or a 1-D array of horizons only."""
    s = CustomerSummary.from_arrays([1], [1.0], [4.0])
    with pytest.raises(InvalidInputError, match="one-dimensional"):
        MODELS[0].expected_purchases_grid(np.ones((2, 2)), s)
    with pytest.raises(InvalidInputError, match="finite numbers >= 0"):
        MODELS[0].probability_alive_at_grid([-1.0], s)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_compressed_rows_give_per_row_values(model, cdnow):
    """A CompressedSummary gives one value per distinct row; gathering gives the customers'."""
    rows = cdnow.compress()
    alive = model.probability_alive(rows)
    purchases = model.expected_purchases(10.0, rows)
    assert alive.shape == purchases.shape == (len(rows),)
    np.testing.assert_array_equal(alive[rows.inverse], model.probability_alive(cdnow))
    np.testing.assert_array_equal(purchases[rows.inverse], model.expected_purchases(10.0, cdnow))
    per_row = np.linspace(0.0, 52.0, len(rows))
    np.testing.assert_array_equal(
        model.expected_purchases(per_row, rows)[rows.inverse],
        model.expected_purchases(per_row[rows.inverse], cdnow),
    )
    grid = model.expected_purchases_grid([1.0, 10.0], rows)
    assert grid.shape == (len(rows), 2)
    np.testing.assert_array_equal(grid[:, 1], purchases)


def test_compressed_rows_in_another_unit_are_converted(cdnow):
    """Rows carry their unit: rows in days predict like the same customers in weeks."""
    model = MODELS[0]
    days = CustomerSummary.from_arrays(
        cdnow.frequency, cdnow.recency * 7, cdnow.T * 7, unit="D"
    ).compress()
    np.testing.assert_allclose(
        model.expected_purchases(10.0, days)[days.inverse],
        model.expected_purchases(10.0, cdnow),
        rtol=1e-12,
    )


def test_fit_on_compressed_rows_equals_fit_on_the_summary(cdnow):
    """Fitting on the weighted distinct rows gives the same estimates as on the customers."""
    on_rows = BGNBD().fit(cdnow.compress())
    on_customers = BGNBD().fit(cdnow)
    assert on_rows.params_ == on_customers.params_
    assert on_rows.unit_ is on_customers.unit_


def test_predictions_refuse_other_summary_types():
    """A non-summary is refused with a message naming both accepted types."""
    with pytest.raises(InvalidInputError, match=r"CustomerSummary.*CompressedSummary"):
        MODELS[0].probability_alive([1, 2, 3])


@pytest.fixture(scope="module")
def cdnow_split() -> CustomerSummary:
    return load_cdnow().split("1997-09-30", "1998-06-30", period="D", unit="W")


@pytest.mark.oracle
def test_lifetimes_style_per_customer_call_on_full_cdnow(cdnow_split):
    """model.expected_purchases(cal.duration_holdout, cal) on 23,570 customers matches lifetimes.

    Also with horizons that differ between customers, and without building anything of size
    customers × customers (23,570² float64 would be 4.4 GB; the budget is 100 MB).
    """
    pd = pytest.importorskip("pandas")
    from lifetimes import BetaGeoFitter

    cal = cdnow_split
    assert len(cal) == 23_570
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    ours = BGNBD.from_params(**params, unit="W")
    theirs = BetaGeoFitter()
    theirs.params_ = pd.Series(params)
    columns = (pd.Series(cal.frequency), pd.Series(cal.recency), pd.Series(cal.T))
    varying = cal.duration_holdout * (0.5 + (np.arange(len(cal)) % 5) / 4)
    for horizons in (cal.duration_holdout, varying):
        tracemalloc.start()
        try:
            values = ours.expected_purchases(horizons, cal)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert values.shape == (len(cal),)
        assert peak < 100e6
        expected = theirs.conditional_expected_number_of_purchases_up_to_time(
            pd.Series(horizons), *columns
        )
        np.testing.assert_allclose(values, expected.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_an_empty_summary_gives_empty_results(model):
    """No customers: every method returns an empty result of the documented shape."""
    empty = CustomerSummary.from_arrays([], [], [])
    assert model.expected_purchases(3.0, empty).shape == (0,)
    assert model.expected_purchases(np.array([]), empty).shape == (0,)
    assert model.probability_alive_at(np.array([]), empty).shape == (0,)
    assert model.probability_alive(empty).shape == (0,)
    assert model.expected_purchases_grid([1.0, 2.0], empty).shape == (0, 2)
