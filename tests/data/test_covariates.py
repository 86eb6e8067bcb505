"""Covariate design matrices: encoding, alignment with a summary, and every refusal named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from relmark.data import Covariates, CustomerSummary
from relmark.errors import InvalidInputError


def test_one_hot_with_named_reference_and_numeric_columns():
    """Categorical columns get one column per non-reference level; numeric columns pass through."""
    cov = Covariates.from_columns(
        ["a", "b", "c", "d"],
        {"channel": ["web", "store", "web", "app"], "age": [30, 41, 25, 52]},
        reference={"channel": "web"},
    )
    assert cov.names == ("channel[app]", "channel[store]", "age")
    np.testing.assert_array_equal(cov.values, [[0, 0, 30], [0, 1, 41], [0, 0, 25], [1, 0, 52]])
    assert cov.reference == {"channel": "web"}
    default = Covariates.from_columns([1, 2, 3], {"c": ["y", "x", "z"]})
    assert default.reference == {"c": "x"}
    assert default.names == ("c[y]", "c[z]")


@pytest.mark.parametrize("make", [pd.DataFrame, pl.DataFrame])
def test_from_frame_pandas_and_polars(make):
    """Frames of either library give the same matrix; the id column is not a covariate."""
    frame = make({"id": [1, 2, 3], "region": ["n", "s", "n"], "spend": [1.0, 2.5, 0.5]})
    cov = Covariates.from_frame(frame, customer="id")
    assert cov.names == ("region[s]", "spend")
    np.testing.assert_array_equal(cov.values, [[0, 1.0], [1, 2.5], [0, 0.5]])
    assert cov.customer_id.tolist() == [1, 2, 3]


def test_align_orders_rows_and_refuses_missing_or_extra_ids():
    """Rows follow the summary's customers; missing and extra customers are listed."""
    cov = Covariates.from_columns([3, 1, 2], {"z": [30.0, 10.0, 20.0]})
    summary = CustomerSummary.from_arrays([0, 1, 2], [0, 1, 2], [5, 5, 5], customer_id=[1, 2, 3])
    np.testing.assert_array_equal(cov.align(summary)[:, 0], [10.0, 20.0, 30.0])
    fewer = Covariates.from_columns([1, 2], {"z": [1.0, 2.0]})
    with pytest.raises(InvalidInputError, match=r"1 customer\(s\) of the summary have no .*3"):
        fewer.align(summary)
    more = Covariates.from_columns([1, 2, 3, 4], {"z": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InvalidInputError, match=r"summary does not: 4"):
        more.align(summary)
    strings = Covariates.from_columns(["1", "2", "3"], {"z": [1.0, 2.0, 3.0]})
    with pytest.raises(InvalidInputError, match="type too"):
        strings.align(summary)


@pytest.mark.parametrize(
    ("ids", "columns", "reference", "message"),
    [
        ([1, 2, 3], {"z": [1.0, 1.0, 1.0]}, None, r"'z'.*constant"),
        ([1, 2, 3], {"c": ["a", "a", "a"]}, None, r"'c' is constant \(its only level is 'a'\)"),
        ([1, 2, 3], {"z": [1.0, 2.0, 3.0], "w": [2.0, 4.0, 6.0]}, None, r"'w'.*collinear"),
        ([1, 2, 3], {"z": [1.0, np.nan, 3.0]}, None, r"'z'.*missing"),
        ([1, 2, 3], {"c": ["a", None, "b"]}, None, r"'c'.*missing"),
        ([1, 2], {"z": [1.0, 2.0, 3.0]}, None, r"'z' has 3 values for 2"),
        ([1, 1, 2], {"z": [1.0, 2.0, 3.0]}, None, r"unique.*1"),
        ([1, 2, 3], {"c": ["a", "b", "a"]}, {"c": "q"}, r"reference level 'q'"),
        ([1, 2, 3], {"z": [1.0, 2.0, 4.0]}, {"z": 1}, r"'z', which is numeric"),
        ([1, 2, 3], {"z": [1.0, 2.0, 4.0]}, {"nope": 1}, r"not covariates: 'nope'"),
        ([1, 2, 3], {}, None, r"at least one"),
    ],
)
def test_bad_covariates_are_refused_by_name(ids, columns, reference, message):
    """Constant, collinear, incomplete, ragged, duplicated or mislabelled input is refused."""
    with pytest.raises(InvalidInputError, match=message):
        Covariates.from_columns(ids, columns, reference=reference)


def test_from_frame_names_missing_columns():
    """A missing id or covariate column is named with the columns the frame has."""
    frame = pd.DataFrame({"id": [1, 2], "z": [1.0, 2.0]})
    with pytest.raises(InvalidInputError, match=r"no column\(s\) 'w'"):
        Covariates.from_frame(frame, customer="id", columns=["w"])
    with pytest.raises(InvalidInputError, match="pandas, polars or pyarrow"):
        Covariates.from_frame([1, 2], customer="id")


@pytest.mark.parametrize("kind", ["int", "str"])
def test_align_by_sorting_equals_align_one_by_one(kind):
    """Shuffled integer or string ids are matched by sorting to the same rows as a dict lookup."""
    rng = np.random.default_rng(8)
    ids = rng.permutation(5000) * 7
    if kind == "str":
        ids = np.array([f"c{i}" for i in ids])
    cov = Covariates.from_columns(ids, {"z": rng.normal(size=5000), "g": rng.integers(0, 3, 5000)})
    order = rng.permutation(5000)
    summary = CustomerSummary.from_arrays(
        np.zeros(5000), np.zeros(5000), np.full(5000, 9.0), customer_id=ids[order]
    )
    np.testing.assert_array_equal(cov.align(summary), cov.values[order])
