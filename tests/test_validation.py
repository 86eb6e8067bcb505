"""Tests of relmark._validation: the checks shared by every package (layer 0)."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from relmark._validation import (
    array_eq,
    check_choice,
    check_probability,
    check_real,
    check_whole,
    cmp,
    float_column,
    is_int,
    is_real,
    offending_rows,
    row_index,
    validate_ids,
)
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


@pytest.mark.parametrize("kind", ["int", "str", "object"])
def test_id_lookup_matches_a_dict_oracle(kind):
    """The vectorized id lookup gives each id's row (-1 when absent), as a dict lookup would."""
    rng = np.random.default_rng(41)
    keys = rng.permutation(200)[:60]
    ids = rng.integers(0, 200, 500)
    if kind == "str":
        keys, ids = keys.astype(str), ids.astype(str)
    elif kind == "object":
        keys = np.array([*keys[:-1].tolist(), "x"], dtype=object)  # mixed types do not sort
        ids = np.array([*ids[:-1].tolist(), "x"], dtype=object)
    position = {key: i for i, key in enumerate(keys.tolist())}
    expected = [position.get(i, -1) for i in ids.tolist()]
    assert row_index(keys, ids).tolist() == expected


def test_array_eq_treats_missing_values_as_equal_so_records_equal_themselves():
    """NaN equals NaN (and NaT equals NaT) in a record; object arrays compare without isnan."""

    @attrs.frozen
    class Holder:
        values: np.ndarray = attrs.field(eq=cmp)

    record = Holder(np.array([1.0, np.nan]))
    assert record == Holder(np.array([1.0, np.nan]))
    assert record != Holder(np.array([1.0, 2.0]))
    assert array_eq(
        np.array(["NaT"], dtype="datetime64[s]"), np.array(["NaT"], dtype="datetime64[s]")
    )
    assert array_eq(np.array(["a", 1], dtype=object), np.array(["a", 1], dtype=object))
    assert not array_eq(np.array([1, 2]), np.array([1, 3]))


@pytest.mark.parametrize(
    ("value", "integer", "real"),
    [
        (3, True, True),
        (np.int64(3), True, True),
        (np.uint8(3), True, True),
        (2.5, False, True),
        (np.float32(2.5), False, True),
        (True, False, False),
        (np.True_, False, False),
        (float("nan"), False, False),
        (float("inf"), False, False),
        ("3", False, False),
        (1 + 0j, False, False),
        (None, False, False),
    ],
)
def test_is_int_and_is_real(value: object, integer: bool, real: bool) -> None:
    """Integers and finite reals of Python or NumPy pass; booleans, non-finite, text do not."""
    assert is_int(value) is integer
    assert is_real(value) is real


def test_check_real_message_names_owner_bound_and_value():
    """check_real returns a float, or raises naming parameter, owner, bound and value."""
    assert check_real(np.int64(2), name="penalizer") == 2.0
    assert type(check_real(np.float32(0.5), name="penalizer")) is float
    with pytest.raises(
        InvalidInputError,
        match=r"^The 'penalizer' parameter of BGNBD must be a float >= 0\. Got -1\.$",
    ):
        check_real(-1, name="penalizer", owner="BGNBD")
    with pytest.raises(InvalidInputError, match=r"'t' argument must be a float > 0\. Got 0\.$"):
        check_real(0, name="t", role="argument", strict=True)
    with pytest.raises(InvalidInputError, match="Got inf, which is not finite"):
        check_real(float("inf"), name="penalizer")
    with pytest.raises(InvalidInputError, match="Got True"):
        check_real(True, name="penalizer")


def test_check_whole_refuses_floats_and_booleans():
    """check_whole accepts integers >= minimum only, returning a Python int."""
    assert check_whole(np.int32(4), name="n", minimum=1) == 4
    assert type(check_whole(np.int32(4), name="n")) is int
    for bad in (0, 2.0, True, "3"):
        with pytest.raises(InvalidInputError, match=r"'n' parameter must be a whole number >= 1"):
            check_whole(bad, name="n", minimum=1)


@pytest.mark.parametrize("bad", [0, 1, 0.0, 1.0, -0.5, float("nan"), True, "0.5", None])
def test_check_probability_is_the_open_unit_interval(bad: object) -> None:
    """Levels must lie strictly inside (0, 1); the message names the argument and the value."""
    with pytest.raises(
        InvalidInputError, match=r"^The 'confidence' parameter must be a float in \(0, 1\)\. Got "
    ):
        check_probability(bad, name="confidence")
    assert check_probability(np.float64(0.95), name="confidence") == 0.95


def test_check_choice_returns_the_canonical_choice():
    """A matching value gives back the choice itself; booleans never match integers."""
    assert type(check_choice(np.str_("polars"), ("pandas", "polars"), name="backend")) is str
    assert check_choice(1, (1, 2), name="level") == 1
    with pytest.raises(InvalidInputError, match=r"must be one of \[1, 2\]\. Got True\."):
        check_choice(True, (1, 2), name="level")
    with pytest.raises(InvalidInputError, match=r"of X must be one of \[2, 'a'\]\. Got 3\."):
        check_choice(3, (2, "a"), name="level", owner="X")
    with pytest.raises(InvalidInputError, match="must be one of"):
        check_choice(np.array(["a"]), ("a",), name="level")
