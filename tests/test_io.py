from __future__ import annotations

import contextlib
import enum
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.clv import BGNBD, CLVScorer, GammaGamma, ParetoNBD, TransactionModelScorer
from relmark.data import CustomerSummary, TransactionLog
from relmark.data.units import TimeUnit
from relmark.domain import (
    Channel,
    Customer,
    CustomerId,
    Stakeholder,
    Touchpoint,
    Transaction,
    TransactionId,
)
from relmark.errors import InvalidInputError, InvalidPayloadError, RelmarkError
from relmark.io import FORMAT_VERSION, MAX_DEPTH, from_dict, from_json, to_dict, to_json
from relmark.profile import (
    Catalogue,
    FieldSpec,
    LawfulBasis,
    Profile,
    ProfileBuilder,
    Sensitivity,
    default_catalogue,
)
from relmark.rfm import RFMScorer
from relmark.testing.strategies import (
    aware_datetimes,
    customers,
    stakeholders,
    touchpoints,
    transactions,
)
from relmark.typing import FloatArray, IntArray


def same_instant_and_zone(a: datetime | None, b: datetime | None) -> bool:
    """Equal as promised: same instant, wall time, offset and zone (same key or same offset)."""
    if a is None or b is None:
        return a is b
    same_zone = (
        a.tzinfo is b.tzinfo
        if isinstance(a.tzinfo, ZoneInfo)
        else type(b.tzinfo) is timezone and a.utcoffset() == b.utcoffset()
    )
    return (
        a == b
        and a.replace(tzinfo=None) == b.replace(tzinfo=None)
        and a.utcoffset() == b.utcoffset()
        and same_zone
    )


def datetime_fields(record: object) -> list[str]:
    return [
        f.name for f in attrs.fields(type(record)) if isinstance(getattr(record, f.name), datetime)
    ]


@given(
    st.one_of(customers(), stakeholders(), touchpoints(), transactions()),
)
def test_records_round_trip_exactly(
    record: Customer | Stakeholder | Touchpoint | Transaction,
) -> None:
    """Every generated record comes back equal, with the same zones, offsets and float bits."""
    text = to_json(record)
    back = from_json(text, type(record))
    assert back == record
    for name in datetime_fields(record):
        assert same_instant_and_zone(getattr(back, name), getattr(record, name)), name
    if isinstance(record, Transaction):
        assert math.copysign(1.0, back.amount) == math.copysign(1.0, record.amount)
    assert to_json(back) == text


@given(aware_datetimes())
def test_datetime_round_trip(value: datetime) -> None:
    """Any aware datetime round-trips with its instant, wall time, offset and zone."""
    back = from_json(to_json(value), datetime)
    assert same_instant_and_zone(back, value)


def test_ambiguous_wall_time_keeps_its_fold() -> None:
    """The second 01:30 of a DST fall-back comes back as the second one, not the first."""
    zone = ZoneInfo("America/New_York")
    second = datetime(2021, 11, 7, 1, 30, tzinfo=zone, fold=1)
    text = to_json(second)
    assert text == '"2021-11-07T01:30:00-05:00[America/New_York]"'
    back = from_json(text, datetime)
    assert back.fold == 1
    assert back.utcoffset() == timedelta(hours=-5)
    assert back.tzinfo is zone


def test_utc_comes_back_as_utc_singleton() -> None:
    """datetime.timezone.utc round-trips to itself."""
    back = from_json(to_json(datetime(2024, 1, 1, tzinfo=UTC)), datetime)
    assert back.tzinfo is UTC


def test_sub_minute_fixed_offset() -> None:
    """A fixed offset with seconds round-trips to the same offset."""
    zone = timezone(timedelta(hours=5, minutes=30, seconds=15))
    value = datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=zone)
    assert same_instant_and_zone(from_json(to_json(value), datetime), value)


def test_unsupported_tzinfo_is_refused_on_writing() -> None:
    """A tzinfo that cannot round-trip exactly is refused instead of silently flattened."""

    class Odd(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta:
            return timedelta(hours=1)

        def dst(self, dt: datetime | None) -> timedelta:
            return timedelta(0)

        def tzname(self, dt: datetime | None) -> str:
            return "ODD"

    with pytest.raises(InvalidInputError, match="tzinfo of type Odd"):
        to_json(datetime(2024, 1, 1, tzinfo=Odd()))


def test_inconsistent_offset_for_zone_is_refused() -> None:
    """A payload whose offset never occurs in its zone at that wall time is refused."""
    with pytest.raises(InvalidPayloadError, match="does not occur in zone"):
        from_json('"2024-07-01T12:00:00+01:00[Europe/Berlin]"', datetime)


def test_bad_payload_lists_every_problem() -> None:
    """One InvalidPayloadError lists each bad field: types, validators, unknown and missing keys."""
    payload = {
        "transaction_id": "",
        "customer_id": 5,
        "at": "2024-01-01T00:00:00",
        "amount": "ten",
        "currency": "eur",
        "channel": "fax",
        "colour": "red",
    }
    with pytest.raises(InvalidPayloadError) as info:
        from_json(json.dumps(payload), Transaction)
    problems = info.value.problems
    assert len(problems) == 7
    expected_starts = [
        "$.transaction_id: Transaction.transaction_id must be",
        "$.customer_id: Expected a string; got an integer of 3 bit(s)",
        "$.at: Expected a timestamp",
        "$.amount: Expected a number",
        "$.currency: Transaction.currency must be an ISO-4217",
        "$.channel: Expected a Channel",
        "$: unexpected field(s) ['colour']",
    ]
    for problem, start in zip(problems, expected_starts, strict=True):
        assert problem.startswith(start), problem
    assert isinstance(info.value, InvalidInputError)


def test_missing_fields_and_cross_field_rule() -> None:
    """Missing required fields are listed; a cross-field rule is reported once fields are fine."""
    with pytest.raises(InvalidPayloadError) as info:
        from_dict({"transaction_id": "o-1"}, Transaction)
    assert info.value.problems == (
        "$.customer_id: required field missing",
        "$.at: required field missing",
        "$.amount: required field missing",
        "$.currency: required field missing",
    )
    negative = {
        "transaction_id": "o-1",
        "customer_id": "c-1",
        "at": "2024-01-01T00:00:00+00:00",
        "amount": -3,
        "currency": "EUR",
    }
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(negative, Transaction)
    assert len(info.value.problems) == 1
    assert "must be >= 0 for a purchase" in info.value.problems[0]


def test_nested_paths_in_lists() -> None:
    """Problems inside a list of records carry the index in their path."""
    good = to_dict(
        Customer(customer_id=CustomerId("c"), opened_at=datetime(2024, 1, 1, tzinfo=UTC))
    )
    bad = good | {"country": "de", "tags": "vip"}
    with pytest.raises(InvalidPayloadError) as info:
        from_dict([good, bad], list[Customer])
    assert [p.split(":")[0] for p in info.value.problems] == ["$[1].country", "$[1].tags"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "Not valid JSON"),
        ('{"x": NaN}', "non-standard JSON constant NaN"),
        ('["a"]', "Expected an object with the fields of Customer"),
    ],
)
def test_malformed_json(text: str, fragment: str) -> None:
    """Text that is not JSON, or not an object, gives an InvalidPayloadError saying so."""
    with pytest.raises(InvalidPayloadError, match=fragment):
        from_json(text, Customer)


def test_strict_scalars() -> None:
    """JSON values of the wrong type are not coerced (no 5 → '5', no true → 1)."""
    for text, cls in (("5", str), ("true", int), ('"1"', float), ("1", bool), ("2.5", int)):
        with pytest.raises(InvalidPayloadError):
            from_json(text, cls)


def test_output_is_standard_json_and_deterministic() -> None:
    """Sets are written sorted, so equal records give identical text."""
    a = Customer(
        customer_id=CustomerId("c"),
        opened_at=datetime(2024, 1, 1, tzinfo=UTC),
        tags=["zeta", "alpha", "mu"],
    )
    assert json.loads(to_json(a))["tags"] == ["alpha", "mu", "zeta"]


# ---------------------------------------------------------------- estimators


def _array_eq(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))


@attrs.frozen(kw_only=True)
class DummyParams:
    r: float
    alpha: float
    scale: FloatArray = attrs.field(eq=attrs.cmp_using(eq=_array_eq))


class DummyEstimator:
    """A stand-in for a model class: keyword-only hyperparameters, annotated fitted state."""

    params_: DummyParams
    covariance_: FloatArray
    counts_: IntArray
    log_likelihood_: float
    names_: tuple[str, ...]
    unit_: TimeUnit
    extras_: dict[str, float]

    def __init__(
        self, *, penalizer: float = 0.0, unit: TimeUnit = TimeUnit.WEEK, tol: float | None = None
    ) -> None:
        self.penalizer = penalizer
        self.unit = unit
        self.tol = tol

    def fit(self) -> DummyEstimator:
        self.params_ = DummyParams(
            r=0.243, alpha=4.414, scale=np.array([1.5, math.nan, math.inf, -math.inf])
        )
        self.covariance_ = np.array([[1e-300, math.inf], [-0.0, math.nan], [0.1, 2.0 / 3.0]])
        self.counts_ = np.array([[1, -(2**62)], [3, 4]], dtype=np.int64)
        self.log_likelihood_ = -9582.429
        self.names_ = ("r", "alpha", "a", "b")
        self.unit_ = TimeUnit.DAY
        self.extras_ = {"gradient_norm": 1e-9, "nan": math.nan}
        self._cache = "private state is not written"
        return self


def test_estimator_round_trip_exact() -> None:
    """A fitted estimator comes back with equal hyperparameters and bit-identical fitted state."""
    model = DummyEstimator(penalizer=0.1, unit=TimeUnit.MONTH, tol=1e-8).fit()
    text = to_json(model)
    payload = json.loads(text)
    assert payload["relmark"] == f"{__name__}.DummyEstimator"
    assert payload["format"] == FORMAT_VERSION == 2
    assert payload["hyperparameters"] == {"penalizer": 0.1, "unit": "M", "tol": 1e-8}
    assert payload["fitted"]["covariance_"]["values"][1] == "Infinity"
    assert "_cache" not in text
    back = from_json(text, DummyEstimator)
    assert isinstance(back, DummyEstimator)
    assert (back.penalizer, back.unit, back.tol) == (0.1, TimeUnit.MONTH, 1e-8)
    assert back.params_ == model.params_
    assert _array_eq(back.covariance_, model.covariance_)
    assert _array_eq(back.counts_, model.counts_)
    assert np.signbit(back.covariance_[1, 0])
    assert back.log_likelihood_ == model.log_likelihood_
    assert back.names_ == model.names_
    assert back.unit_ is TimeUnit.DAY
    assert back.extras_["gradient_norm"] == 1e-9
    assert math.isnan(back.extras_["nan"])
    assert to_json(back) == text


def test_unfitted_estimator_round_trip() -> None:
    """An estimator before fit round-trips with no fitted attributes."""
    back = from_json(to_json(DummyEstimator()), DummyEstimator)
    assert not hasattr(back, "params_")
    assert back.unit is TimeUnit.WEEK


def test_estimator_payload_errors_are_grouped() -> None:
    """Wrong class name, unknown hyperparameter and bad fitted values are all listed."""
    payload = json.loads(to_json(DummyEstimator().fit()))
    payload["relmark"] = "somewhere.Else"
    payload["hyperparameters"]["bogus"] = 1
    payload["fitted"]["params_"]["r"] = "a"
    payload["fitted"]["covariance_"]["dtype"] = "int64"
    payload["fitted"]["undeclared_"] = 1.0
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, DummyEstimator)
    problems = info.value.problems
    assert len(problems) == 5
    joined = "\n".join(problems)
    assert "$.hyperparameters: DummyEstimator has no hyperparameter 'bogus'" in joined
    assert "$.fitted.params_.r: Expected a number" in joined
    assert "$.fitted.covariance_: Expected an array of dtype float64" in joined
    assert "no annotated fitted attribute 'undeclared_'" in joined
    assert "The payload holds a 'somewhere.Else'" in joined


def test_unannotated_fitted_attribute_is_refused() -> None:
    """Writing a fitted attribute without class-level annotation fails, naming it."""
    model = DummyEstimator()
    model.mystery_ = 1.0  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError, match=r"DummyEstimator.mystery_ has no class-level"):
        to_json(model)


def test_array_dtype_must_match_annotation() -> None:
    """An array whose dtype contradicts its annotation is refused on writing."""
    model = DummyEstimator().fit()
    model.covariance_ = np.ones((2, 2), dtype=np.float32)  # type: ignore[assignment]
    with pytest.raises(InvalidInputError, match="covariance_"):
        to_json(model)


def test_transaction_list_round_trip() -> None:
    """Containers of records round-trip too."""
    sale = Transaction(
        transaction_id=TransactionId("o"),
        customer_id=CustomerId("c"),
        at=datetime(2024, 1, 1, tzinfo=UTC),
        amount=0.1,
        currency="EUR",
        channel=Channel.APP,
    )
    assert from_json(to_json([sale, sale]), list[Transaction]) == [sale, sale]


def test_unsupported_object_is_refused_on_writing() -> None:
    """An object relmark cannot write raises InvalidInputError naming its type, not a TypeError."""

    class Opaque:
        def __init__(self, value: int) -> None:
            self.value = value

    with pytest.raises(InvalidInputError, match="Cannot write a list to JSON"):
        to_json([Opaque(1)])


# ---------------------------------------------------------------- nested estimators


class OtherEstimator:
    """A second estimator class, to tell union members apart."""

    weight_: float

    def __init__(self, *, scale: float = 1.0) -> None:
        self.scale = scale


class Holder:
    """An estimator whose fitted state holds other estimators (like a scorer holding models)."""

    inner_: DummyEstimator
    either_: DummyEstimator | OtherEstimator
    maybe_: OtherEstimator | DummyEstimator | None

    def __init__(self, *, label: str = "h") -> None:
        self.label = label


def _holder() -> Holder:
    holder = Holder(label="x")
    holder.inner_ = DummyEstimator(penalizer=0.5).fit()
    other = OtherEstimator(scale=2.0)
    other.weight_ = math.nan
    holder.either_ = other
    holder.maybe_ = None
    return holder


def test_nested_estimators_round_trip_exactly() -> None:
    """Estimators in fitted attributes (single class, union, optional union) come back exactly."""
    holder = _holder()
    text = to_json(holder)
    payload = json.loads(text)
    assert payload["fitted"]["inner_"]["relmark"] == f"{__name__}.DummyEstimator"
    assert payload["fitted"]["either_"]["relmark"] == f"{__name__}.OtherEstimator"
    assert payload["fitted"]["maybe_"] is None
    back = from_json(text, Holder)
    assert type(back.inner_) is DummyEstimator
    assert back.inner_.penalizer == 0.5
    assert back.inner_.params_ == holder.inner_.params_
    assert _array_eq(back.inner_.covariance_, holder.inner_.covariance_)
    assert type(back.either_) is OtherEstimator
    assert back.either_.scale == 2.0
    assert math.isnan(back.either_.weight_)
    assert back.maybe_ is None
    assert to_json(back) == text


def test_union_member_is_chosen_by_the_payload_class_name() -> None:
    """The same union attribute reads back a DummyEstimator when the payload names one."""
    holder = _holder()
    holder.either_ = DummyEstimator().fit()
    holder.maybe_ = OtherEstimator()
    holder.maybe_.weight_ = 0.5
    back = from_json(to_json(holder), Holder)
    assert type(back.either_) is DummyEstimator
    assert back.either_.params_ == holder.either_.params_
    assert type(back.maybe_) is OtherEstimator
    assert back.maybe_.weight_ == 0.5


def test_unfitted_nested_estimator_is_refused() -> None:
    """A fitted holder whose fitted attribute holds an unfitted estimator does not load."""
    holder = _holder()
    holder.maybe_ = OtherEstimator()
    payload = json.loads(to_json(holder))
    with pytest.raises(InvalidPayloadError, match=r"maybe_ holds an unfitted OtherEstimator"):
        from_dict(payload, Holder)


def test_nested_estimator_errors_name_their_path() -> None:
    """A bad nested field and a class outside the union are both reported, with paths."""
    payload = json.loads(to_json(_holder()))
    payload["fitted"]["inner_"]["fitted"]["params_"]["r"] = "a"
    payload["fitted"]["either_"]["relmark"] = "os.system"
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, Holder)
    joined = "\n".join(info.value.problems)
    assert "$.fitted.inner_.fitted.params_.r: Expected a number" in joined
    assert "$.fitted.either_:" in joined
    assert "'os.system'" in joined
    assert f"{__name__}.OtherEstimator" in joined


def test_nested_estimator_of_wrong_class_is_refused_on_writing() -> None:
    """Writing an object that is not one of the annotated estimator classes fails, naming it."""
    holder = _holder()
    holder.inner_ = OtherEstimator()  # type: ignore[assignment]
    with pytest.raises(InvalidInputError, match=r"inner_: Expected an estimator of type"):
        to_json(holder)


# ---------------------------------------------------------------- validated loads: summaries


def _summary_payload(summary: CustomerSummary) -> dict[str, Any]:
    payload = json.loads(to_json(summary))
    assert isinstance(payload, dict)
    return payload


@st.composite
def summaries(draw: st.DrawFn) -> CustomerSummary:
    """Valid summaries as users build them: int or str ids, optional money and weights."""
    n = draw(st.integers(0, 6))
    frequency = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    age = draw(st.lists(st.floats(0.0, 500.0), min_size=n, max_size=n))
    share = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    recency = [0.0 if x == 0 else a * s for x, a, s in zip(frequency, age, share, strict=True)]
    ids = draw(
        st.one_of(
            st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n, unique=True),
            st.lists(st.text(max_size=4), min_size=n, max_size=n, unique=True),
        )
    )
    money = draw(st.none() | st.just([float(x) * 2.5 for x in frequency]))
    weights = draw(st.none() | st.lists(st.floats(0.5, 9.0), min_size=n, max_size=n))
    unit = draw(st.sampled_from(["D", "W", "M"]))
    return CustomerSummary.from_arrays(
        frequency, recency, age, monetary=money, customer_id=ids, unit=unit, weights=weights
    )


@given(summaries())
def test_summary_round_trip_exactly(summary: CustomerSummary) -> None:
    """Any valid summary comes back equal, ids keeping their type (str ids stay str objects)."""
    back = from_json(to_json(summary), CustomerSummary)
    assert back == summary
    assert back.customer_id.dtype == summary.customer_id.dtype
    assert [type(v) for v in back.customer_id.tolist()] == [
        type(v) for v in summary.customer_id.tolist()
    ]


def test_summary_with_holdout_round_trips() -> None:
    """A calibration/holdout summary made by split keeps its holdout columns exactly."""
    days = np.array(["2024-01-01", "2024-01-09", "2024-02-20", "2024-01-03", "2024-03-01"])
    log = TransactionLog.from_arrays(
        ["a", "a", "a", "b", "b"], days.astype("datetime64[D]"), [5.0, 7.0, 9.0, 3.0, 4.0]
    )
    summary = log.split(np.datetime64("2024-02-01"), np.datetime64("2024-03-10"))
    assert summary.has_holdout
    assert from_json(to_json(summary), CustomerSummary) == summary


_BAD_SUMMARIES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "recency above T",
        lambda p: p["recency"]["values"].__setitem__(0, 99.0),
        "'recency' must be <= 'T'",
    ),
    ("negative frequency", lambda p: p["frequency"]["values"].__setitem__(1, -1), "'frequency'"),
    ("NaN recency", lambda p: p["recency"]["values"].__setitem__(0, "NaN"), "'recency'"),
    ("infinite T", lambda p: p["T"]["values"].__setitem__(0, "Infinity"), "'T'"),
    (
        "ragged columns",
        lambda p: p["monetary"].update(shape=[1], values=[1.0]),
        "'monetary' has 1 rows",
    ),
    ("duplicate ids", lambda p: p["customer_id"]["values"].__setitem__(1, 7), "must be unique"),
    ("missing unit", lambda p: p.pop("unit"), "unit: required field missing"),
    ("missing monetary key", lambda p: p.pop("monetary"), "monetary: required field missing"),
    ("unknown unit", lambda p: p.__setitem__("unit", "fortnight"), "unit"),
    ("negative money", lambda p: p["monetary"]["values"].__setitem__(0, -2.0), "'monetary'"),
    (
        "money without repeat purchases",
        lambda p: p["monetary"]["values"].__setitem__(1, 5.0),
        "'monetary' must be 0 where 'frequency' is 0",
    ),
    (
        "zero weight",
        lambda p: p.__setitem__(
            "weights", {"dtype": "float64", "shape": [2], "values": [1.0, 0.0]}
        ),
        "'weights'",
    ),
    (
        "holdout without duration",
        lambda p: p.__setitem__(
            "frequency_holdout", {"dtype": "int64", "shape": [2], "values": [1, 0]}
        ),
        "'duration_holdout' come together",
    ),
    ("negative excluded", lambda p: p.__setitem__("excluded_transactions", -3), "excluded"),
]


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [case[1:] for case in _BAD_SUMMARIES],
    ids=[c[0] for c in _BAD_SUMMARIES],
)
def test_summary_load_runs_every_check_of_from_arrays(
    mutate: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    """A corrupted summary payload is refused with the same message construction gives."""
    summary = CustomerSummary.from_arrays(
        [2, 0], [3.0, 0.0], [5.0, 5.0], monetary=[4.0, 0.0], customer_id=[7, 9], unit="W"
    )
    payload = _summary_payload(summary)
    mutate(payload)
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, CustomerSummary)
    assert fragment in str(info.value)


def test_bad_holdout_columns_are_refused() -> None:
    """Holdout columns of the wrong length, sign or money without purchases are refused."""
    days = np.array(["2024-01-01", "2024-01-09", "2024-02-20", "2024-01-03"])
    log = TransactionLog.from_arrays(
        ["a", "a", "a", "b"], days.astype("datetime64[D]"), [5.0, 7.0, 9.0, 3.0]
    )
    good = _summary_payload(log.split(np.datetime64("2024-02-01"), np.datetime64("2024-03-10")))
    cases = [
        ("duration_holdout", {"dtype": "float64", "shape": [1], "values": [5.0]}, "one value per"),
        ("duration_holdout", {"dtype": "float64", "shape": [2], "values": [0.0, 5.0]}, "> 0"),
        ("frequency_holdout", {"dtype": "int64", "shape": [2], "values": [-1, 0]}, ">= 0"),
        (
            "monetary_holdout",
            {"dtype": "float64", "shape": [2], "values": [9.0, 2.0]},
            "be 0 without",
        ),
        ("monetary_holdout", None, "exactly when 'monetary'"),
    ]
    for name, value, fragment in cases:
        payload = json.loads(json.dumps(good))
        payload[name] = value
        with pytest.raises(InvalidPayloadError, match=fragment):
            from_dict(payload, CustomerSummary)


# ---------------------------------------------------------------- validated loads: estimators


def _model_payload() -> dict[str, Any]:
    model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
    return json.loads(to_json(model))  # type: ignore[no-any-return]


def test_fitted_model_round_trips_and_checks_pass() -> None:
    """A fitted model (real covariance) and one from known parameters both round-trip."""
    summary = CustomerSummary.from_arrays(
        [2, 1, 0, 0, 3, 1, 0, 4], [30.4, 1.7, 0, 0, 35.1, 5.0, 0, 36.0], [38.9] * 8
    )
    fitted = BGNBD(penalizer=0.01).fit(summary)
    back = from_json(to_json(fitted), BGNBD)
    assert back.params_ == fitted.params_
    assert np.array_equal(back.covariance_, fitted.covariance_)
    assert back.penalizer == 0.01
    known = from_dict(_model_payload(), BGNBD)
    assert known.params_.alpha == 4.414


_BAD_MODELS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing params_", lambda p: p["fitted"].pop("params_"), "lacks ['params_']"),
    ("missing unit_", lambda p: p["fitted"].pop("unit_"), "lacks ['unit_']"),
    (
        "covariance of the wrong shape",
        lambda p: p["fitted"]["covariance_"].update(shape=[2, 2], values=[1.0, 0.0, 0.0, 1.0]),
        "covariance_ must be a 4 x 4 matrix",
    ),
    ("negative penalizer", lambda p: p["hyperparameters"].__setitem__("penalizer", -1.0), ">= 0"),
    ("NaN penalizer", lambda p: p["hyperparameters"].__setitem__("penalizer", "NaN"), ">= 0"),
    (
        "standard errors of other parameters",
        lambda p: p["fitted"]["standard_errors_"].pop("r"),
        "standard_errors_ must have one entry per parameter",
    ),
    ("non-positive parameter", lambda p: p["fitted"]["params_"].__setitem__("r", -0.5), "r"),
]


@pytest.mark.parametrize(
    ("mutate", "fragment"), [case[1:] for case in _BAD_MODELS], ids=[c[0] for c in _BAD_MODELS]
)
def test_corrupted_model_payloads_are_refused(
    mutate: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    """A model payload that contradicts itself never loads, silently unfitted or otherwise."""
    payload = _model_payload()
    mutate(payload)
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, BGNBD)
    assert fragment in str(info.value)


def test_format_1_payload_is_refused_with_a_clear_message() -> None:
    """A payload of the layout before validated loads says what it is and what to do."""
    payload = _model_payload()
    payload["format"] = 1
    with pytest.raises(InvalidPayloadError, match="format 1, written by an earlier relmark"):
        from_dict(payload, BGNBD)
    payload["format"] = 3
    with pytest.raises(InvalidPayloadError, match="Unsupported payload format 3; expected 2"):
        from_dict(payload, BGNBD)


def test_validator_messages_name_the_record_not_nonetype() -> None:
    """A field validator run on its own names its record (not 'NoneType') in the message."""
    payload = json.loads(to_json(_rich_profile()))
    payload["observations"][0]["sequence"] = -1
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, Profile, catalogue=_rich_catalogue())
    text = str(info.value)
    assert "NoneType" not in text
    assert "ProvenancedValue" in text


def test_unfitted_model_payload_loads_unfitted() -> None:
    """A payload written before fit (empty 'fitted') loads as the unfitted model it was."""
    back = from_json(to_json(BGNBD(penalizer=0.5)), BGNBD)
    assert back.penalizer == 0.5
    assert "params_" not in vars(back)


def test_scorer_contradicting_its_model_is_refused() -> None:
    """A scorer whose hyperparameters disagree with the model it holds is refused on load."""
    scorer = TransactionModelScorer(penalizer=0.0)
    scorer.model_ = BGNBD.from_params(r=0.2, alpha=4.0, a=0.8, b=2.4)
    payload = json.loads(to_json(scorer))
    assert from_dict(payload, TransactionModelScorer).model_.params_ == scorer.model_.params_
    payload["hyperparameters"]["penalizer"] = 0.25
    with pytest.raises(InvalidPayloadError, match=r"penalizer=0\.25 but its fitted model_"):
        from_dict(payload, TransactionModelScorer)
    payload["hyperparameters"]["penalizer"] = 0.0
    payload["hyperparameters"]["model"] = "paretonbd"
    with pytest.raises(InvalidPayloadError, match="model='paretonbd' but holds a fitted BGNBD"):
        from_dict(payload, TransactionModelScorer)

    clv = CLVScorer(transaction_model="bgnbd")
    clv.transaction_model_ = ParetoNBD.from_params(r=0.55, alpha=10.6, s=0.61, beta=11.7)
    clv.spend_model_ = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.4)
    clv.clv_tier_cuts_ = np.array([1.0, 2.0])
    with pytest.raises(InvalidPayloadError, match="transaction_model='bgnbd' but holds a fitted"):
        from_json(to_json(clv), CLVScorer)
    clv.transaction_model = "paretonbd"
    assert isinstance(from_json(to_json(clv), CLVScorer).transaction_model_, ParetoNBD)
    clv.spend_penalizer = 1.0
    with pytest.raises(
        InvalidPayloadError, match=r"spend_penalizer=1\.0 but its fitted spend_model_"
    ):
        from_json(to_json(clv), CLVScorer)


def _clv_scorer() -> CLVScorer:
    """A fitted CLVScorer built from known parameters (no optimisation in the test)."""
    scorer = CLVScorer(transaction_model="paretonbd", interval_draws=50, seed=3)
    scorer.transaction_model_ = ParetoNBD.from_params(
        r=0.55, alpha=10.6, s=0.61, beta=11.7, unit="W"
    )
    scorer.spend_model_ = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.4)
    scorer.clv_tier_cuts_ = np.array([10.0, 40.0])
    return scorer


def _bgnbd_scorer() -> TransactionModelScorer:
    scorer = TransactionModelScorer(horizon=26.0)
    scorer.model_ = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
    return scorer


_SCORING_SUMMARY = CustomerSummary.from_arrays(
    [2, 0, 5], [3.0, 0.0, 9.5], [5.0, 5.0, 10.0], monetary=[4.0, 0.0, 2.5]
)


def _fitted_model_payload() -> dict[str, Any]:
    summary = CustomerSummary.from_arrays(
        [2, 1, 0, 0, 3, 1, 0, 4], [30.4, 1.7, 0, 0, 35.1, 5.0, 0, 36.0], [38.9] * 8
    )
    return json.loads(to_json(BGNBD(penalizer=0.01).fit(summary)))  # type: ignore[no-any-return]


def _set_matrix_entry(name: str, index: int, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda p: p["fitted"][name]["values"].__setitem__(index, value)


_BAD_FITTED_VALUES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("asymmetric covariance", _set_matrix_entry("covariance_", 1, 5.0), "must be symmetric"),
    ("negative variance", _set_matrix_entry("covariance_", 0, -5.0), "diagonal >= 0"),
    ("negative log variance", _set_matrix_entry("log_covariance_", 5, -1.0), "diagonal >= 0"),
    ("one NaN entry", _set_matrix_entry("covariance_", 0, "NaN"), "NaN in some entries only"),
    (
        "negative standard error",
        lambda p: p["fitted"]["standard_errors_"].__setitem__("b", -1.0),
        "negative for ['b']",
    ),
    (
        "fit_ records another log-likelihood",
        lambda p: p["fitted"].__setitem__("log_likelihood_", 123.0),
        "fit statistics (fit_) record",
    ),
    (
        "fit_ records another penalizer",
        lambda p: p["fitted"]["fit_"].__setitem__("penalizer", 5.0),
        "record penalizer=5.0",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [case[1:] for case in _BAD_FITTED_VALUES],
    ids=[c[0] for c in _BAD_FITTED_VALUES],
)
def test_fitted_values_fit_cannot_produce_are_refused(
    mutate: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    """Covariances, standard errors and fit statistics of a real fit are checked on load."""
    payload = _fitted_model_payload()
    assert from_dict(payload, BGNBD).penalizer == 0.01
    mutate(payload)
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, BGNBD)
    assert fragment in str(info.value)


def test_model_from_known_parameters_keeps_its_all_nan_covariance() -> None:
    """An all-NaN covariance (a model built by from_params) is the one NaN matrix accepted."""
    back = from_dict(_model_payload(), BGNBD)
    assert np.isnan(back.covariance_).all()
    assert all(math.isnan(v) for v in back.standard_errors_.values())


@pytest.mark.parametrize(
    ("attribute", "make"),
    [("model_", _bgnbd_scorer), ("transaction_model_", _clv_scorer), ("spend_model_", _clv_scorer)],
)
def test_scorer_holding_an_unfitted_model_is_refused(
    attribute: str, make: Callable[[], object]
) -> None:
    """A fitted scorer whose nested model payload is unfitted never loads (it could not score)."""
    scorer = make()
    cls = type(scorer)
    back = from_json(to_json(scorer), cls)
    back.score(_SCORING_SUMMARY)  # type: ignore[attr-defined]
    payload = json.loads(to_json(scorer))
    payload["fitted"][attribute]["fitted"] = {}
    with pytest.raises(InvalidPayloadError, match=rf"{attribute} holds an unfitted"):
        from_dict(payload, cls)


_BAD_CLV_SCORERS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "three cut points",
        lambda p: p["fitted"].__setitem__(
            "clv_tier_cuts_", {"dtype": "float64", "shape": [3], "values": [1.0, 2.0, 3.0]}
        ),
        "clv_tier_cuts_ must be two finite cut points",
    ),
    (
        "reversed cut points",
        lambda p: p["fitted"]["clv_tier_cuts_"].__setitem__("values", [40.0, 10.0]),
        "lower first",
    ),
    (
        "NaN cut point",
        lambda p: p["fitted"]["clv_tier_cuts_"].__setitem__("values", ["NaN", 10.0]),
        "two finite cut points",
    ),
    ("zero horizon", lambda p: p["hyperparameters"].__setitem__("horizon", 0), "'horizon'"),
    (
        "negative discount rate",
        lambda p: p["hyperparameters"].__setitem__("discount_rate", -0.5),
        "'discount_rate'",
    ),
    ("interval of 2", lambda p: p["hyperparameters"].__setitem__("interval", 2.0), "'interval'"),
    (
        "one interval draw",
        lambda p: p["hyperparameters"].__setitem__("interval_draws", 1),
        "'interval_draws'",
    ),
    ("negative seed", lambda p: p["hyperparameters"].__setitem__("seed", -1), "'seed'"),
    (
        "unknown model name",
        lambda p: p["hyperparameters"].__setitem__("transaction_model", "xx"),
        "one of 'bgnbd', 'mbgnbd', 'paretonbd'",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [case[1:] for case in _BAD_CLV_SCORERS],
    ids=[c[0] for c in _BAD_CLV_SCORERS],
)
def test_corrupted_clv_scorer_payloads_are_refused(
    mutate: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    """CLVScorer's hyperparameters are validated as fit does, and its tier cuts are checked."""
    payload = json.loads(to_json(_clv_scorer()))
    mutate(payload)
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, CLVScorer)
    assert fragment in str(info.value)


_BAD_RFM_SCORERS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("negative count", lambda p: p["fitted"].__setitem__("n_customers_", -5), "n_customers_"),
    (
        "more one-time buyers than customers",
        lambda p: p["fitted"].__setitem__("n_one_time_buyers_", 10**6),
        "n_one_time_buyers_",
    ),
    ("unknown id kind", lambda p: p["fitted"].__setitem__("id_kind_", "zzz"), "id_kind_"),
    ("another seed", lambda p: p["hyperparameters"].__setitem__("seed", 99), "seed=99"),
]


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [case[1:] for case in _BAD_RFM_SCORERS],
    ids=[c[0] for c in _BAD_RFM_SCORERS],
)
def test_corrupted_rfm_scorer_payloads_are_refused(
    mutate: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    """An RFMScorer payload with impossible counts, tie keys or seed does not load."""
    summary = CustomerSummary.from_arrays(
        [2, 0, 5, 1, 0, 3], [3.0, 0.0, 9.5, 2.0, 0.0, 4.0], [10.0] * 6, monetary=[4, 0, 2, 5, 0, 1]
    )
    payload = json.loads(to_json(RFMScorer(ties="random", seed=3).fit(summary)))
    assert from_dict(payload, RFMScorer).seed_ == 3
    mutate(payload)
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, RFMScorer)
    assert fragment in str(info.value)


def test_transaction_scorer_hyperparameters_are_validated_on_load() -> None:
    """A TransactionModelScorer payload with a negative horizon fails as fit would fail."""
    payload = json.loads(to_json(_bgnbd_scorer()))
    payload["hyperparameters"]["horizon"] = -5.0
    with pytest.raises(InvalidPayloadError, match="'horizon' parameter of TransactionModelScorer"):
        from_dict(payload, TransactionModelScorer)


class _UnregisteredModel(BGNBD):
    """A transaction model that is not in relmark.clv.registry."""


def test_a_payload_naming_an_unregistered_model_is_refused() -> None:
    """Under `model_: RepeatBuyingModel` only registered models load, or are written at all."""
    payload = json.loads(to_json(_bgnbd_scorer()))
    for name in (
        f"{__name__}._UnregisteredModel",
        "relmark.clv.bgbb.BGBB",
        "relmark.clv._base.RepeatBuyingModel",
        "os.system",
    ):
        payload["fitted"]["model_"]["relmark"] = name
        with pytest.raises(InvalidPayloadError, match="'relmark' key is one of") as info:
            from_dict(payload, TransactionModelScorer)
        assert "relmark.clv.paretonbd.ParetoNBD" in str(info.value)
    scorer = TransactionModelScorer()
    scorer.model_ = _UnregisteredModel.from_params(r=0.2, alpha=4.0, a=0.8, b=2.4)
    with pytest.raises(InvalidInputError, match="Expected an estimator of type BGNBD, MBGNBD"):
        to_json(scorer)


# ---------------------------------------------------------------- catalogues and profiles


class Mood(enum.Enum):
    """A user's own answer vocabulary, defined at module level."""

    CALM = "calm"
    BUSY = "busy"


def _rich_catalogue() -> Catalogue:
    return Catalogue(
        fields=[
            FieldSpec(name="name", type=str, stage=1, purpose="account", required=True),
            FieldSpec(name="born", type=date, stage=1, purpose="account"),
            FieldSpec(
                name="first_visit",
                type=datetime,
                stage=1,
                purpose="account",
                choices=(datetime(2024, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")),),
            ),
            FieldSpec(name="visits", type=int, stage=2, purpose="analytics", askable=False),
            FieldSpec(name="spend", type=float, stage=2, purpose="analytics", askable=False),
            FieldSpec(
                name="mood",
                type=Mood,
                stage=3,
                purpose="personalisation",
                lawful_basis=LawfulBasis.CONSENT,
                freshness=timedelta(days=30, seconds=5, microseconds=7),
                channels=[Channel.EMAIL, Channel.WEB],
            ),
            FieldSpec(
                name="tags",
                type=tuple,
                stage=3,
                purpose="personalisation",
                lawful_basis=LawfulBasis.CONSENT,
                choices=("jazz", "rock"),
                depends_on=("mood",),
            ),
            FieldSpec(
                name="gift",
                type=bool,
                stage=4,
                purpose="partnership",
                lawful_basis=LawfulBasis.CONSENT,
                sensitivity=Sensitivity.HIGH,
            ),
        ]
    )


def test_catalogues_round_trip_exactly() -> None:
    """The default catalogue and one using every value type come back equal."""
    for catalogue in (default_catalogue(), _rich_catalogue()):
        text = to_json(catalogue)
        back = from_json(text, Catalogue)
        assert back == catalogue
        assert to_json(back) == text
    payload = json.loads(to_json(_rich_catalogue()))
    assert payload["fields"][5]["type"] == f"{__name__}.Mood"
    assert payload["fields"][5]["freshness"] == {"days": 30, "seconds": 5, "microseconds": 7}


def test_catalogue_payload_names_no_importable_code() -> None:
    """A type name that is not a built-in or an already defined Enum is refused, nothing imported."""
    payload = json.loads(to_json(_rich_catalogue()))
    payload["fields"][5]["type"] = "os.system"
    with pytest.raises(InvalidPayloadError, match="never imports a module"):
        from_dict(payload, Catalogue)
    payload["fields"][5]["type"] = "collections.OrderedDict"
    with pytest.raises(InvalidPayloadError, match="Unknown value type"):
        from_dict(payload, Catalogue)

    class Local(enum.Enum):
        A = "a"

    local = Catalogue(fields=[FieldSpec(name="x", type=Local, stage=1, purpose="p")])
    with pytest.raises(InvalidInputError, match="inside a function"):
        to_json(local)


def test_catalogue_choices_are_read_as_the_field_type() -> None:
    """Choices must be values of their field's type: a text where a datetime belongs is refused."""
    payload = json.loads(to_json(_rich_catalogue()))
    payload["fields"][2]["choices"] = ["2024-03-31T02:30:00+02:00[Nowhere/City]"]
    with pytest.raises(InvalidPayloadError, match=r"'choices' of field 'first_visit'"):
        from_dict(payload, Catalogue)


def _rich_profile() -> Profile:
    builder = ProfileBuilder(catalogue=_rich_catalogue())
    berlin = ZoneInfo("Europe/Berlin")
    t0 = datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=berlin)  # the second 02:30 of that night
    p = builder.new("c-1", opened_at=t0)
    p = builder.observe(p, "name", "Ada", source="declared", at=t0, channel=Channel.WEB)
    p = builder.observe(p, "born", date(1990, 5, 17), source="declared", at=t0)
    p = builder.observe(
        p, "first_visit", datetime(2024, 3, 31, 2, 30, tzinfo=berlin), source="observed", at=t0
    )
    p = builder.observe(p, "visits", 3, source="derived", at=t0, collector="derived by rfm")
    p = builder.observe(p, "spend", -0.0, source="derived", at=t0)
    p = builder.grant_consent(p, "personalisation", at=t0, note="form v2")
    p = builder.observe(p, "mood", Mood.BUSY, source="declared", at=t0)
    p = builder.observe(p, "tags", ("rock", "jazz"), source="declared", at=t0)
    p = builder.object_to(p, "analytics", at=t0 + timedelta(days=1))
    return builder.erase(p, ["visits"], at=t0 + timedelta(days=2), requested_by="customer")


def test_profile_round_trips_exactly_with_named_zones() -> None:
    """A profile with values of every type, consent and erasures comes back equal, zones named."""
    profile = _rich_profile()
    text = to_json(profile)
    back = from_json(text, Profile, catalogue=_rich_catalogue())
    assert back == profile
    assert to_json(back) == text
    assert isinstance(back.opened_at, datetime)
    assert profile.opened_at is not None
    assert same_instant_and_zone(back.opened_at, profile.opened_at)
    assert back.opened_at.fold == 1
    visit = back.value("first_visit")
    assert isinstance(visit.tzinfo, ZoneInfo)
    assert visit.tzinfo.key == "Europe/Berlin"
    assert math.copysign(1.0, back.value("spend")) == -1.0
    assert json.loads(text)["opened_at"] == "2024-10-27T02:30:00+01:00[Europe/Berlin]"


_BAD_PROFILES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "value of the wrong type",
        lambda p: p["observations"][0].__setitem__("value", 5),
        "Observation 0 of profile 'c-1': Field 'name' expects a value of type str",
    ),
    ("missing consent log", lambda p: p.pop("consent_log"), "consent_log: required field missing"),
    ("missing erasures", lambda p: p.pop("erasures"), "erasures: required field missing"),
    (
        "value of an unknown field",
        lambda p: p["observations"][0].__setitem__("field", "shoe_size"),
        "does not define",
    ),
    (
        "sequence repeated",
        lambda p: p["consent_log"][0].__setitem__("sequence", 0),
        "recording order",
    ),
    ("next_sequence too small", lambda p: p.__setitem__("next_sequence", 3), "recording order"),
    ("customer id of another type", lambda p: p.__setitem__("customer_id", 1.5), "identifier"),
    ("bool customer id", lambda p: p.__setitem__("customer_id", True), "identifier"),
    (
        "enum value outside the enum",
        lambda p: next(o for o in p["observations"] if o["field"] == "mood").__setitem__(
            "value", "sleepy"
        ),
        "Field 'mood' expects a value of type Mood. Got a str",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "fragment"), [case[1:] for case in _BAD_PROFILES], ids=[c[0] for c in _BAD_PROFILES]
)
def test_corrupted_profile_payloads_are_refused(
    mutate: Callable[[dict[str, Any]], None], fragment: str
) -> None:
    """A profile payload that breaks a profile's promises is refused, naming what is wrong."""
    payload = json.loads(to_json(_rich_profile()))
    mutate(payload)
    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, Profile, catalogue=_rich_catalogue())
    assert fragment in str(info.value)


# ---------------------------------------------------------------- hostile JSON


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 200_000])
def test_deep_nesting_is_an_invalid_payload(depth: int) -> None:
    """Arrays nested beyond MAX_DEPTH raise InvalidPayloadError, never RecursionError."""
    text = "[" * depth + "]" * depth
    with pytest.raises(InvalidPayloadError, match="nest"):
        from_json(text, list[Any])
    nested: list[Any] = []
    for _ in range(min(depth, 5_000)):
        nested = [nested]
    with pytest.raises(InvalidPayloadError, match="nest"):
        from_dict(nested, list[Any])


def test_nesting_up_to_the_limit_is_read() -> None:
    """MAX_DEPTH levels are still read (the limit refuses only deeper payloads)."""
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert from_json(text, list[Any]) == json.loads(text)


def _nested(depth: int) -> list[Any]:
    data: list[Any] = []
    for _ in range(depth - 1):
        data = [data]
    return data


def test_what_is_written_can_be_read_back_at_the_depth_limit() -> None:
    """Writing stops exactly where reading stops: MAX_DEPTH levels write, one more does not."""
    assert from_json(to_json(_nested(MAX_DEPTH)), list[Any]) == _nested(MAX_DEPTH)
    with pytest.raises(InvalidInputError, match=f"deeper than {MAX_DEPTH} levels"):
        to_json(_nested(MAX_DEPTH + 1))
    with pytest.raises(InvalidInputError, match=f"deeper than {MAX_DEPTH} levels"):
        to_dict({"a": _nested(MAX_DEPTH)})


@pytest.mark.parametrize("data", [{1: 2}, {"a": [{1.5: "x"}]}, [{None: 1}]])
def test_dicts_with_non_string_keys_are_refused_on_writing(data: object) -> None:
    """json.dumps would write the key 1 as "1" and read back another dict: refused instead."""
    with pytest.raises(InvalidInputError, match="has a key of type"):
        to_json(data)


_AT = datetime(2024, 1, 1, tzinfo=UTC)


class Access(enum.Flag):
    """A Flag vocabulary: members combine (READ | WRITE)."""

    READ = 1
    WRITE = 2


def test_combined_flag_values_round_trip() -> None:
    """A combination of Flag members reads back as the same combination, typed or under Any."""
    both = Access.READ | Access.WRITE
    assert from_json(to_json([both, Access.WRITE]), list[Access]) == [both, Access.WRITE]
    spec = FieldSpec(name="access", type=Access, stage=3, purpose="account")
    catalogue = Catalogue(fields=[spec])
    assert from_json(to_json(catalogue), Catalogue) == catalogue
    builder = ProfileBuilder(catalogue=catalogue)
    profile = builder.observe(
        builder.new("c", opened_at=_AT), "access", both, source="declared", at=_AT
    )
    back = from_json(to_json(profile), Profile, catalogue=catalogue)
    assert back.value("access") is both
    with pytest.raises(InvalidPayloadError, match="Expected a Access"):
        from_json("[8]", list[Access])


@pytest.mark.parametrize(
    ("text", "cls", "fragment"),
    [
        ("1" * 5_000, int, "more than 4300 digits"),
        ('{"values": [' + "9" * 5_000 + "]}", dict[str, Any], "more than 4300 digits"),
        (str(2**63), int, "-2**63 to 2**63 - 1"),
        (str(-(2**63) - 1), int, "-2**63 to 2**63 - 1"),
        (str(10**400), float, "outside the range"),
        ('{"dtype": "int64", "shape": [1], "values": [' + str(2**64) + "]}", IntArray, "2**63"),
    ],
)
def test_huge_numbers_are_invalid_payloads(text: str, cls: Any, fragment: str) -> None:
    """Oversized integers raise InvalidPayloadError, never ValueError or OverflowError."""
    with pytest.raises(InvalidPayloadError, match=re.escape(fragment)):
        from_json(text, cls)


def test_huge_integers_are_refused_on_writing() -> None:
    """Writing an integer beyond int64 fails with InvalidInputError naming its size."""
    with pytest.raises(InvalidInputError, match="1329 bit"):
        to_json(10**400)
    with pytest.raises(InvalidInputError, match="2\\*\\*63"):
        to_json([1, 2**63])


# ---------------------------------------------------------------- corruption fuzz


def _leaf_paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        paths = [path] if path else []
        for key, value in data.items():
            paths += _leaf_paths(value, (*path, key))
        return paths
    if isinstance(data, list):
        paths = [path] if path else []
        for index, value in enumerate(data):
            paths += _leaf_paths(value, (*path, index))
        return paths
    return [path]


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from(["NaN", "Infinity", "-Infinity", "W", "fortnight", "Europe/Berlin", ""])
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _node(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _corrupt(payload: Any, path: tuple[Any, ...], value: object, delete: bool) -> Any:
    data = json.loads(json.dumps(payload))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


_FUZZ_TARGETS: list[tuple[Callable[[], object], Any]] = [
    (
        lambda: CustomerSummary.from_arrays(
            [2, 0, 5],
            [3.0, 0.0, 9.5],
            [5.0, 5.0, 10.0],
            monetary=[4.0, 0.0, 2.5],
            customer_id=["a", "b", "c"],
            weights=[1.0, 2.0, 1.0],
        ),
        CustomerSummary,
    ),
    (_rich_profile, Profile),
    (lambda: BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426), BGNBD),
    (_rich_catalogue, Catalogue),
    (_bgnbd_scorer, TransactionModelScorer),
    (_clv_scorer, CLVScorer),
]


@settings(max_examples=300, deadline=None)
@given(
    target=st.sampled_from(range(len(_FUZZ_TARGETS))),
    choice=st.integers(0, 10_000),
    value=st.just({}) | _JSON_VALUES,
    delete=st.booleans(),
    container=st.booleans(),
)
def test_corrupted_payloads_load_validated_or_raise_invalid_payload(
    target: int, choice: int, value: object, delete: bool, container: bool
) -> None:
    """Any one-node corruption of a valid payload loads a valid object or raises InvalidPayloadError."""
    make, cls = _FUZZ_TARGETS[target]
    payload = json.loads(to_json(make()))
    paths = _leaf_paths(payload)
    if container:
        # Half the time an object or array is replaced (an emptied 'fitted' of a nested model,
        # a whole record), which the many numeric leaves would otherwise crowd out.
        paths = [p for p in paths if isinstance(_node(payload, p), dict | list)]
    path = paths[choice % len(paths)]
    corrupted = _corrupt(payload, path, value, delete)
    try:
        loaded = from_dict(corrupted, cls, catalogue=_rich_catalogue())
    except InvalidPayloadError:
        return
    # What loads is valid: it passes the checks of construction again and writes back out.
    if isinstance(loaded, CustomerSummary):
        CustomerSummary.from_arrays(
            loaded.frequency,
            loaded.recency,
            loaded.T,
            monetary=loaded.monetary,
            customer_id=loaded.customer_id,
            unit=loaded.unit,
            weights=loaded.weights,
        )
    if isinstance(loaded, Profile):
        attrs.evolve(loaded)  # the constructor's checks run again
    if isinstance(loaded, TransactionModelScorer | CLVScorer):
        # A loaded scorer is fitted and usable, never a shell that fails with AttributeError.
        with contextlib.suppress(RelmarkError):
            loaded.score(_SCORING_SUMMARY)
    text = to_json(loaded)
    assert to_json(from_json(text, cls, catalogue=_rich_catalogue())) == text


def test_unwritable_value_is_named_by_its_path() -> None:
    """A value json cannot write is reported with its path, not only its type."""

    @attrs.frozen
    class Holder:
        name: str
        extra: Any

    with pytest.raises(InvalidInputError, match=r"at \$\.extra\[1\]: Object of type object"):
        to_json(Holder(name="n", extra=[1, object()]))
