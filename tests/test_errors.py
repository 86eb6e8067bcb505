"""relmark.errors: the structured attributes of InvalidInputError and RelmarkWarning, and where
the data layer sets them."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from relmark.data.log import TransactionLog
from relmark.errors import (
    ConvergenceError,
    InvalidInputError,
    InvalidPayloadError,
    RelmarkError,
    RelmarkWarning,
)


def test_a_plain_message_still_works() -> None:
    """InvalidInputError("message") is unchanged: same text, every attribute unset."""
    error = InvalidInputError("The 'x' parameter must be > 0. Got -1.")
    assert str(error) == "The 'x' parameter must be > 0. Got -1."
    assert error.problem == str(error)
    assert (error.field, error.column, error.value, error.expected) == (None, None, None, None)
    assert (error.rows, error.hint, error.hint_field) == ((), None, None)
    assert isinstance(error, RelmarkError)
    assert isinstance(error, ValueError)


def test_the_hint_ends_the_message_and_stays_apart() -> None:
    """With a hint the message is problem + hint; ``problem`` keeps the message without it."""
    error = InvalidInputError("Column 'a' is bad.", hint="Fix it.", hint_field="fix")
    assert str(error) == "Column 'a' is bad. Fix it."
    assert error.problem == "Column 'a' is bad."
    assert (error.hint, error.hint_field) == ("Fix it.", "fix")


def test_rows_keep_the_first_five_as_ints() -> None:
    """``rows`` takes any iterable of integers (a numpy index too) and keeps the first five."""
    error = InvalidInputError("x", rows=np.flatnonzero(np.ones(10**6, dtype=bool)))
    assert error.rows == (0, 1, 2, 3, 4)
    assert all(type(row) is int for row in error.rows)


def test_structured_errors_survive_pickling() -> None:
    """Errors cross process boundaries (Dask workers) with message and attributes intact."""
    error = InvalidInputError(
        "Column 'a' is bad.", column="a", rows=[3], value=[-1.0], hint="Fix.", hint_field="f"
    )
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round trip
    assert type(back) is InvalidInputError
    assert str(back) == str(error)
    assert (back.problem, back.column, back.rows, back.value, back.hint_field) == (
        "Column 'a' is bad.",
        "a",
        (3,),
        [-1.0],
        "f",
    )
    payload = InvalidPayloadError("BGNBD", ["params: missing"])
    again = pickle.loads(pickle.dumps(payload))  # noqa: S301 - our own object, round trip
    assert (str(again), again.target, again.problems) == (
        str(payload),
        "BGNBD",
        ("params: missing",),
    )


def test_convergence_errors_carry_their_advice_apart() -> None:
    """A ConvergenceError keeps problem, hint and hint_field apart, also across pickling."""
    error = ConvergenceError("Did not converge.", hint="Try penalizer=0.1.", hint_field="penalizer")
    assert str(error) == "Did not converge. Try penalizer=0.1."
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round trip
    assert type(back) is ConvergenceError
    assert (str(back), back.problem, back.hint, back.hint_field) == (
        str(error),
        "Did not converge.",
        "Try penalizer=0.1.",
        "penalizer",
    )
    plain = ConvergenceError("No advice.")
    assert (str(plain), plain.problem, plain.hint, plain.hint_field) == (
        "No advice.",
        "No advice.",
        None,
        None,
    )
    assert isinstance(plain, RuntimeError)


def test_warnings_carry_the_same_structure() -> None:
    """RelmarkWarning("message") still works; with a hint the text ends with it."""
    assert str(RelmarkWarning("plain")) == "plain"
    warning = RelmarkWarning("Late rows.", field="end", rows=[7], hint="Set end.", hint_field="end")
    assert (str(warning), warning.problem, warning.rows) == (
        "Late rows. Set end.",
        "Late rows.",
        (7,),
    )


# ---------------------------------------------------------------- where the data layer sets them
def test_negative_amounts_name_column_rows_values_and_the_argument_to_set() -> None:
    """A negative amount: column, rows, values and the allow_returns advice as attributes."""
    with pytest.raises(InvalidInputError) as caught:
        TransactionLog.from_frame(
            {"id": [1, 1, 2], "day": ["2024-01-01"] * 3, "usd": [5.0, -2.0, -1.0]},
            customer="id",
            time="day",
            amount="usd",
        )
    error = caught.value
    assert (error.column, error.rows, error.value) == ("usd", (1, 2), [-2.0, -1.0])
    assert error.hint_field == "allow_returns"
    assert "Column 'usd' must be >= 0" in str(error)
    assert str(error).endswith("Pass allow_returns=True if negative amounts are returns.")


def test_unparseable_times_name_column_rows_values_and_expectation() -> None:
    """Times that do not parse: the column, their rows, the values and what was expected."""
    with pytest.raises(InvalidInputError) as caught:
        TransactionLog.from_arrays([1, 1, 2], ["2024-01-01", "2024-02-30", "soon"])
    error = caught.value
    assert (error.column, error.rows, error.value) == ("time", (1, 2), ["2024-02-30", "soon"])
    assert error.expected == "times in ISO 8601 (e.g. '2024-03-31')"
    assert "row(s) 1, 2" in str(error)


def test_integer_times_advise_time_format() -> None:
    """Integers in the time column: the advice is to pass time_format."""
    with pytest.raises(InvalidInputError) as caught:
        TransactionLog.from_arrays([1], np.array([20240101]))
    assert (caught.value.column, caught.value.hint_field) == ("time", "time_format")


def test_changing_offsets_advise_timezone() -> None:
    """Offsets that change with daylight saving: the advice is to pass timezone."""
    with pytest.raises(InvalidInputError) as caught:
        TransactionLog.from_arrays([1, 1], ["2024-01-01T10:00+01:00", "2024-07-01T10:00+02:00"])
    error = caught.value
    assert (error.column, error.value, error.hint_field) == (
        "time",
        ["+01:00", "+02:00"],
        "timezone",
    )
    assert "--timezone" not in str(error)


@pytest.mark.parametrize(
    ("arguments", "field", "value"),
    [
        ({"timezone": "Mars/Base"}, "timezone", "Mars/Base"),
        ({"time_format": "Y"}, "time_format", "Y"),
    ],
)
def test_bad_reader_arguments_name_field_value_and_expectation(
    arguments: dict[str, str], field: str, value: str
) -> None:
    """A bad argument: its name, the value and what it must be, which the message also says."""
    with pytest.raises(InvalidInputError) as caught:
        TransactionLog.from_arrays([1], ["2024-01-01"], **arguments)  # type: ignore[arg-type]
    error = caught.value
    assert (error.field, error.value) == (field, value)
    assert error.expected is not None
    assert error.expected.split(" such as")[0] in str(error)
    assert repr(value) in str(error)


def test_a_bad_observation_end_names_the_argument() -> None:
    """observation_end that is not a time: field, value and expectation."""
    log = TransactionLog.from_arrays([1], ["2024-01-01"])
    with pytest.raises(InvalidInputError) as caught:
        log.summarize("someday")
    error = caught.value
    assert (error.field, error.value) == ("observation_end", "someday")
    assert error.expected is not None
    assert error.expected.startswith("a date or time")


def test_a_missing_file_column_names_it(tmp_path: Path) -> None:
    """read_csv with a column the file lacks raises naming that column (the reader's check)."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "log.csv"
    path.write_text("id,day,usd\n1,2024-01-01,5\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        TransactionLog.read_csv(path, customer="id", time="when", amount="usd")
    assert (caught.value.column, caught.value.value) == ("when", ["when"])
    with pytest.raises(InvalidInputError) as caught:
        TransactionLog.read_csv(path, customer="id", time="day", delimiter=";;")
    assert (caught.value.field, caught.value.value) == ("delimiter", ";;")


def test_the_far_future_warning_advises_observation_end() -> None:
    """The warning about a default end far beyond the data names the rows and the argument."""
    days = [f"2023-01-{d:02d}" for d in range(1, 13)] + ["2099-01-01"]
    log = TransactionLog.from_arrays(list(range(len(days))), days)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log.summarize()
    [warning] = [w.message for w in caught if isinstance(w.message, RelmarkWarning)]
    assert isinstance(warning, RelmarkWarning)
    assert (warning.field, warning.hint_field, warning.rows) == (
        "observation_end",
        "observation_end",
        (12,),
    )
    assert str(warning).endswith("Set the end explicitly: observation_end='YYYY-MM-DD'.")


def test_an_end_before_the_data_names_observation_end() -> None:
    """Nothing on or before observation_end: the argument and the rule it breaks."""
    log = TransactionLog.from_arrays([1], ["2024-01-01"])
    with pytest.raises(InvalidInputError, match="No transaction falls on or before") as caught:
        log.summarize("2023-12-01", period="W")
    assert caught.value.field == "observation_end"
    assert caught.value.expected == "on or after the week of the first transaction"


def test_summary_columns_name_column_rows_and_rule() -> None:
    """A summary row that breaks a rule: the column, its rows, the values and the rule."""
    from relmark.data.summary import CustomerSummary

    with pytest.raises(InvalidInputError, match=r"'recency' must be >= 0") as caught:
        CustomerSummary.from_arrays([1, 2, 1], [1.0, -2.0, -0.5], [5.0, 5.0, 5.0])
    error = caught.value
    assert (error.column, error.rows, error.value, error.expected) == (
        "recency",
        (1, 2),
        [-2.0, -0.5],
        ">= 0",
    )
