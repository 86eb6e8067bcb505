"""Tests of relmark.data._validation: the column checks shared by logs and summaries."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from relmark.data._validation import array_eq, cmp, float_column, offending_rows, validate_ids
from relmark.errors import InvalidInputError


def test_offending_rows_lists_five_and_counts_the_rest():
    """At most five rows are listed; the rest are counted."""
    assert offending_rows(np.arange(8) % 2 == 1) == "row(s) 1, 3, 5, 7"
    assert offending_rows(np.ones(7, dtype=bool)) == "row(s) 0, 1, 2, 3, 4 (and 2 more)"


def test_float_column_checks_length_and_names_rows():
    """float_column names non-numbers and non-finite values by row and checks the length."""
    assert float_column("x", [1, 2.5]).tolist() == [1.0, 2.5]
    with pytest.raises(InvalidInputError, match=r"'x' must be one-dimensional with 3 rows"):
        float_column("x", [1.0, 2.0], 3)
    with pytest.raises(InvalidInputError, match=r"not numbers at row\(s\) 2: \['b'\]"):
        float_column("x", [1, 2, "b"])
    with pytest.raises(
        InvalidInputError, match=r"finite amounts; found NaN or infinity at row\(s\) 0"
    ):
        float_column("x", [np.nan, 1.0], what="amounts")


def test_validate_ids():
    """Strings become object arrays; integers pass; bad ids are named errors."""
    assert validate_ids("id", np.array(["a", "b"])).tolist() == ["a", "b"]
    assert validate_ids("id", np.array(["a", "b"])).dtype == object
    ints = np.array([3, 1], dtype=np.uint16)
    assert validate_ids("id", ints) is ints
    with pytest.raises(InvalidInputError, match=r"'id' has missing customer ids \(NaT\)"):
        validate_ids("id", np.array(["2024-01-01", "NaT"], dtype="datetime64[D]"))
    with pytest.raises(
        InvalidInputError, match=r"'id' must hold integer or string ids; got dtype bool"
    ):
        validate_ids("id", np.array([True]))


def test_array_eq_and_cmp():
    """Optional arrays compare by shape and values; None equals only None."""

    @attrs.frozen
    class Holder:
        values: np.ndarray | None = attrs.field(eq=cmp)

    assert array_eq(None, None)
    assert not array_eq(np.zeros(1), None)
    assert not array_eq(np.zeros(1), np.zeros((1, 1)))
    assert Holder(np.arange(3)) == Holder(np.arange(3))
    assert Holder(np.arange(3)) != Holder(None)


@pytest.mark.parametrize(
    ("values", "what"),
    [
        (np.array([True, False]), "booleans"),
        ([1.0, True], "booleans"),
        (np.array([1.0, np.True_], dtype=object), "booleans"),
        (np.array([1 + 2j]), "complex numbers"),
        ([1.0, 2j], "complex numbers"),
        (np.array(["2024-01-01"], dtype="datetime64[D]"), "dates or times"),
        (np.array([5], dtype="timedelta64[s]"), "durations"),
        (np.timedelta64(3, "D"), "durations"),
    ],
)
def test_float_column_refuses_numbers_in_disguise(values: object, what: str) -> None:
    """Booleans, complex numbers, dates and durations are not silently turned into floats."""
    with pytest.raises(
        InvalidInputError, match=rf"Column 'amount' must hold real numbers; got {what}"
    ):
        float_column("amount", values)  # type: ignore[arg-type]


def test_binary_ids_are_decoded_to_text() -> None:
    """Ids stored as bytes read as the text they encode ('1', not b'1'); non-UTF-8 is refused."""
    assert validate_ids("id", np.array([b"1", b"22"])).tolist() == ["1", "22"]
    assert validate_ids("id", np.array([b"a", b"b"], dtype=object)).tolist() == ["a", "b"]
    with pytest.raises(InvalidInputError, match=r"not UTF-8 text at row\(s\) 1"):
        validate_ids("id", np.array([b"a", b"\xff"], dtype=object))
    with pytest.raises(InvalidInputError, match="mixes id types"):
        validate_ids("id", np.array([b"a", "b"], dtype=object))


def test_summary_counts_and_durations_refuse_booleans_and_dates() -> None:
    """The shared check guards summaries too: boolean frequency, datetime T are refused."""
    from relmark.data.summary import CustomerSummary

    with pytest.raises(InvalidInputError, match="'frequency' must hold real numbers; got booleans"):
        CustomerSummary.from_arrays(np.array([True, False]), [1.0, 0.0], [2.0, 2.0])
    with pytest.raises(InvalidInputError, match="'T' must hold real numbers; got durations"):
        CustomerSummary.from_arrays([1, 0], [1.0, 0.0], np.array([2, 2], dtype="timedelta64[D]"))


def test_integers_beyond_the_float_range_are_named() -> None:
    """10**400 is an InvalidInputError naming its row and the limit, not an OverflowError."""
    with pytest.raises(InvalidInputError, match=r"within the float range .* at row\(s\) 1\."):
        float_column("amount", [1, 10**400])
