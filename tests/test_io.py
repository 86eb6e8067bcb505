from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from relmark.errors import InvalidInputError, InvalidPayloadError
from relmark.io import from_dict, from_json, to_dict, to_json
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
        "$.customer_id: Expected a string; got 5",
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
    assert payload["format"] == 1
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
    back = from_json(to_json(holder), Holder)
    assert type(back.either_) is DummyEstimator
    assert back.either_.params_ == holder.either_.params_
    assert type(back.maybe_) is OtherEstimator
    assert not hasattr(back.maybe_, "weight_")


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
