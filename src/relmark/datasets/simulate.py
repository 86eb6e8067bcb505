r"""Exact simulators: draw customers from a model's generative story, with no approximation.

The continuous-time models (BG/NBD, MBG/NBD, Pareto/NBD) are simulated with no time
discretisation, so a refit on simulated data is unbiased up to sampling error; their simulators
return a [`CustomerSummary`][relmark.data.summary.CustomerSummary]. The BG/BB simulator returns a
summary whose ``recency`` and ``T`` count transaction opportunities; the shifted-beta-geometric
ones return per-customer (periods observed, churned) arrays or a cohort's survivor counts.

Simulators are named after the models' registry names (``simulate_<name>``, see
[`relmark.clv.registry`][relmark.clv.registry]); ``model=`` of
[`simulate_transaction_log`][relmark.datasets.simulate.simulate_transaction_log] takes those
names, and [`TRANSACTION_SIMULATORS`][relmark.datasets.simulate.TRANSACTION_SIMULATORS] maps
each registered transaction model to its simulator.

[`simulate_transaction_log`][relmark.datasets.simulate.simulate_transaction_log] draws the
transactions themselves, with real timestamps at a chosen granularity, for customers acquired
over a span (many cohorts, each with its own observation length): the data real logs look like.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import ArrayLike

from relmark.clv.registry import transaction_model
from relmark.data.log import TransactionLog
from relmark.data.summary import CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import BoolArray, FloatArray, IntArray

__all__ = [
    "TRANSACTION_SIMULATORS",
    "simulate_bgbb",
    "simulate_bgnbd",
    "simulate_mbgnbd",
    "simulate_paretonbd",
    "simulate_sbg",
    "simulate_sbg_cohort",
    "simulate_transaction_log",
]

_NEVER = np.iinfo(np.int64).max


def _positive(name: str, value: float, model: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (np.isfinite(number) and number > 0):
        raise InvalidInputError(
            f"The {name!r} parameter of {model} must be a float > 0. Got {value!r}."
        )
    return number


def _count(name: str, value: int, model: str) -> int:
    try:
        count = -1 if isinstance(value, bool) else operator.index(value)
    except TypeError:
        count = -1
    if count < 1:
        raise InvalidInputError(
            f"The {name!r} parameter of {model} must be an int >= 1. Got {value!r}."
        )
    return count


def _ages(T: float | ArrayLike, count: int, model: str) -> FloatArray:
    """``T`` as one finite, positive observation length per customer."""
    try:
        values = np.asarray(T, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.asarray(np.nan)
    try:
        ages = np.broadcast_to(values, (count,)).copy()
    except ValueError:
        raise InvalidInputError(
            f"The 'T' parameter of {model} must be a scalar or have one value per customer "
            f"({count}); got shape {values.shape}."
        ) from None
    bad = ~(np.isfinite(ages) & (ages > 0))
    if bad.any():
        shown = ages[bad][:5].tolist() if values.ndim else T
        raise InvalidInputError(
            f"The 'T' parameter of {model} must be finite and > 0 (a scalar or one value per "
            f"customer). Got {shown!r}."
        )
    return ages


def _summary(
    frequency: IntArray, recency: FloatArray, T: FloatArray, unit: str | TimeUnit
) -> CustomerSummary:
    return CustomerSummary(
        customer_id=np.arange(frequency.size, dtype=np.int64),
        frequency=frequency,
        recency=recency,
        T=T,
        unit=parse_unit(unit),
    )


def _trials_to_first_success(rng: np.random.Generator, probability: FloatArray) -> IntArray:
    r"""Geometric draws on $\{1, 2, \dots\}$, or ``_NEVER`` where ``probability`` is exactly 0.

    A beta draw can underflow to exactly 0 (tiny first shape parameter); such a customer never
    drops out (or churns, or dies), and numpy's geometric sampler rejects a probability of 0.
    """
    never = probability <= 0.0
    trials = rng.geometric(np.where(never, 1.0, probability))
    trials[never] = _NEVER
    return np.asarray(trials, dtype=np.int64)


def _last_event_time(
    rng: np.random.Generator, frequency: IntArray, events: IntArray, horizon: FloatArray
) -> FloatArray:
    r"""Time of the ``frequency``-th of ``events`` uniform event times on ``(0, horizon)``.

    The $k$-th order statistic of $N$ uniforms is $\text{Beta}(k, N - k + 1)$; 0 when $k = 0$.
    """
    bought = frequency > 0
    order_statistic = rng.beta(
        np.where(bought, frequency, 1), np.where(bought, events - frequency + 1, 1)
    )
    return np.asarray(np.where(bought, horizon * order_statistic, 0.0), dtype=np.float64)


def _simulate_beta_geometric(
    model: str,
    parameters: tuple[int, float, float, float, float],
    T: float | ArrayLike,
    seed: int | np.random.Generator,
    unit: str | TimeUnit,
    *,
    may_leave_at_start: bool,
) -> CustomerSummary:
    r"""Customers of the BG/NBD story, or of the MBG/NBD one (``may_leave_at_start``).

    ``parameters`` are $(n, r, \alpha, a, b)$: $\lambda \sim \text{Gamma}(r, \alpha)$ and
    $p \sim \text{Beta}(a, b)$ per customer; $N \sim \text{Poisson}(\lambda T)$ events in $(0, T]$
    and $J$ geometric repeat purchases before dropout give $x = \min(N, J)$, and
    $t_x = T \cdot \text{Beta}(x, N - x + 1)$ (Fader, Hardie & Lee 2005, assumptions i–v). In
    the MBG/NBD (Batislam, Denizel & Filiztekin 2007) the customer also drops out right after the
    first purchase with probability $p$ ($x = 0$).
    """
    n, r, alpha, a, b = parameters
    count = _count("n", n, model)
    r, alpha = _positive("r", r, model), _positive("alpha", alpha, model)
    a, b = _positive("a", a, model), _positive("b", b, model)
    ages = _ages(T, count, model)
    rng = np.random.default_rng(seed)
    rate = rng.gamma(shape=r, scale=1.0 / alpha, size=count)
    dropout = rng.beta(a, b, size=count)
    gone_at_start = rng.uniform(size=count) < dropout if may_leave_at_start else False
    events = rng.poisson(rate * ages)
    repeats_before_dropout = _trials_to_first_success(rng, dropout)
    frequency = np.where(gone_at_start, 0, np.minimum(events, repeats_before_dropout))
    frequency = frequency.astype(np.int64)
    return _summary(frequency, _last_event_time(rng, frequency, events, ages), ages, unit)


def simulate_bgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | ArrayLike,
    seed: int | np.random.Generator,
    *,
    unit: str | TimeUnit = "W",
) -> CustomerSummary:
    r"""Simulate $n$ customers from the BG/NBD model exactly, in continuous time.

    The generative story of Fader, Hardie & Lee (2005, "Counting your customers the easy way",
    *Marketing Science* 24(2), assumptions i–v): each customer has a purchase rate
    $\lambda \sim \text{Gamma}(r, \alpha)$ (shape $r$, rate $\alpha$) and a dropout
    probability $p \sim \text{Beta}(a, b)$. Starting from the first purchase at time 0, while
    active the customer buys at the events of a Poisson process with rate $\lambda$, and after
    each repeat purchase becomes inactive with probability $p$, so the number of repeat
    purchases before dropout $J$ is geometric on $\{1, 2, \dots\}$. With
    $N \sim \text{Poisson}(\lambda T)$ Poisson events in $(0, T]$, the observed repeat purchases
    are $x = \min(N, J)$, and given $N$ the event times are $N$ sorted uniforms on $(0, T)$, so
    $t_x = T \cdot \text{Beta}(x, N - x + 1)$ (the $x$-th order statistic). No step rounds
    time to whole periods, so refits recover the parameters without bias.

    Args:
        n: Number of customers, >= 1.
        r: Shape of the gamma distribution of purchase rates.
        alpha: Rate (inverse scale) of the gamma distribution of purchase rates.
        a: First shape parameter of the beta distribution of dropout probabilities.
        b: Second shape parameter of the beta distribution of dropout probabilities.
        T: Observation length per customer: a scalar, or one value per customer (cohorts).
        seed: Seed or generator of the random draws.
        unit: Time unit of ``T`` and of the returned durations.

    Returns:
        A summary with ``customer_id`` ``0..n-1``, ``frequency`` $x$, ``recency`` $t_x$ and ``T``.

    Raises:
        InvalidInputError: When a parameter is out of range.

    Examples:
        >>> s = simulate_bgnbd(1000, r=0.243, alpha=4.414, a=0.793, b=2.426, T=39.0, seed=1)
        >>> len(s), bool((s.recency <= s.T).all())
        (1000, True)
    """
    return _simulate_beta_geometric(
        "simulate_bgnbd", (n, r, alpha, a, b), T, seed, unit, may_leave_at_start=False
    )


def simulate_mbgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | ArrayLike,
    seed: int | np.random.Generator,
    *,
    unit: str | TimeUnit = "W",
) -> CustomerSummary:
    r"""Simulate $n$ customers from the MBG/NBD model exactly, in continuous time.

    The story of Batislam, Denizel & Filiztekin (2007): $\lambda \sim \text{Gamma}(r, \alpha)$,
    $p \sim \text{Beta}(a, b)$. Right after the first purchase (time 0) the customer drops out
    with probability $p$ (then $x = t_x = 0$); otherwise he buys at the events of a Poisson
    process with rate $\lambda$ and drops out after each repeat purchase with probability $p$,
    so the repeat purchases before dropout $J$ are geometric on $\{1, 2, \dots\}$. With
    $N \sim \text{Poisson}(\lambda T)$ events in $(0, T]$, $x = \min(N, J)$ and
    $t_x = T\cdot\text{Beta}(x, N - x + 1)$ (the $x$-th of $N$ uniform event times).

    Args:
        n: Number of customers, >= 1.
        r: Shape of the gamma distribution of purchase rates.
        alpha: Rate (inverse scale) of the gamma distribution of purchase rates.
        a: First shape parameter of the beta distribution of dropout probabilities.
        b: Second shape parameter of the beta distribution of dropout probabilities.
        T: Observation length per customer: a scalar, or one value per customer (cohorts).
        seed: Seed or generator of the random draws.
        unit: Time unit of ``T`` and of the returned durations.

    Returns:
        A summary with ``customer_id`` ``0..n-1``, ``frequency`` $x$, ``recency`` $t_x$ and ``T``.

    Raises:
        InvalidInputError: When a parameter is out of range.

    Examples:
        >>> s = simulate_mbgnbd(500, r=0.525, alpha=6.18, a=0.891, b=1.614, T=39.0, seed=1)
        >>> len(s), bool((s.recency <= s.T).all())
        (500, True)
    """
    return _simulate_beta_geometric(
        "simulate_mbgnbd", (n, r, alpha, a, b), T, seed, unit, may_leave_at_start=True
    )


def simulate_paretonbd(
    n: int,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    T: float | ArrayLike,
    seed: int | np.random.Generator,
    *,
    unit: str | TimeUnit = "W",
) -> CustomerSummary:
    r"""Simulate $n$ customers from the Pareto/NBD model exactly, in continuous time.

    The story of Schmittlein, Morrison & Colombo (1987): a purchase rate
    $\lambda \sim \text{Gamma}(r, \alpha)$ and a dropout rate $\mu \sim \text{Gamma}(s, \beta)$
    (shapes $r, s$; rates $\alpha, \beta$), independent; an exponential lifetime
    $\omega \sim \text{Exp}(\mu)$; while alive, purchases at the events of a Poisson process with
    rate $\lambda$. With $\tau = \min(\omega, T)$ the active time observed, the repeat purchases
    are $x \sim \text{Poisson}(\lambda\tau)$ and, given $x$, the last one is the maximum of $x$
    uniforms on $(0, \tau)$: $t_x = \tau\cdot\text{Beta}(x, 1)$.

    Args:
        n: Number of customers, >= 1.
        r: Shape of the gamma distribution of purchase rates.
        alpha: Rate (inverse scale) of the gamma distribution of purchase rates.
        s: Shape of the gamma distribution of dropout rates.
        beta: Rate (inverse scale) of the gamma distribution of dropout rates.
        T: Observation length per customer: a scalar, or one value per customer (cohorts).
        seed: Seed or generator of the random draws.
        unit: Time unit of ``T`` and of the returned durations.

    Returns:
        A summary with ``customer_id`` ``0..n-1``, ``frequency`` $x$, ``recency`` $t_x$ and ``T``.

    Raises:
        InvalidInputError: When a parameter is out of range.

    Examples:
        >>> s = simulate_paretonbd(500, r=0.55, alpha=10.6, s=0.61, beta=11.7, T=39.0, seed=1)
        >>> len(s), bool((s.recency <= s.T).all())
        (500, True)
    """
    model = "simulate_paretonbd"
    count = _count("n", n, model)
    r, alpha = _positive("r", r, model), _positive("alpha", alpha, model)
    s, beta = _positive("s", s, model), _positive("beta", beta, model)
    ages = _ages(T, count, model)
    rng = np.random.default_rng(seed)
    rate = rng.gamma(shape=r, scale=1.0 / alpha, size=count)
    dropout_rate = rng.gamma(shape=s, scale=1.0 / beta, size=count)
    # A gamma draw can underflow to 0: such a customer never dies (infinite lifetime).
    with np.errstate(divide="ignore"):
        lifetime = rng.exponential(size=count) / dropout_rate
    active = np.minimum(lifetime, ages)
    frequency = rng.poisson(rate * active).astype(np.int64)
    return _summary(frequency, _last_event_time(rng, frequency, frequency, active), ages, unit)


def simulate_bgbb(
    n: int,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    n_periods: int,
    seed: int | np.random.Generator,
    *,
    unit: str | TimeUnit = "Y",
) -> CustomerSummary:
    r"""Simulate $n$ customers from the BG/BB model exactly, over ``n_periods`` opportunities.

    The story of Fader, Hardie & Shang (2010): $p \sim \text{Beta}(\alpha, \beta)$,
    $\theta \sim \text{Beta}(\gamma, \delta)$. At the beginning of each opportunity (the first
    included) a living customer dies with probability $\theta$, so he is alive for
    $\min(G - 1, n)$ opportunities with $G$ geometric on $\{1, 2, \dots\}$; at each opportunity
    while alive he transacts with probability $p$. Every opportunity is drawn, so the summary is
    the exact $(x, t_x, n)$ of a simulated 0/1 history.

    Args:
        n: Number of customers, >= 1.
        alpha: First shape parameter of the beta distribution of transaction probabilities.
        beta: Second shape parameter of the beta distribution of transaction probabilities.
        gamma: First shape parameter of the beta distribution of dropout probabilities.
        delta: Second shape parameter of the beta distribution of dropout probabilities.
        n_periods: Number of transaction opportunities observed, >= 1.
        seed: Seed or generator of the random draws.
        unit: Length of one opportunity (recorded on the summary).

    Returns:
        A summary with ``frequency`` $x$, ``recency`` $t_x$ (the opportunity of the last
        transaction, 0 if none) and ``T`` $= n$ (the number of opportunities).

    Raises:
        InvalidInputError: When a parameter is out of range.

    Examples:
        >>> s = simulate_bgbb(500, alpha=1.2, beta=0.75, gamma=0.66, delta=2.8, n_periods=6, seed=1)
        >>> int(s.frequency.max()) <= 6, bool((s.recency <= s.T).all())
        (True, True)
    """
    model = "simulate_bgbb"
    count = _count("n", n, model)
    alpha, beta = _positive("alpha", alpha, model), _positive("beta", beta, model)
    gamma, delta = _positive("gamma", gamma, model), _positive("delta", delta, model)
    periods = _count("n_periods", n_periods, model)
    rng = np.random.default_rng(seed)
    buy = rng.beta(alpha, beta, size=count)
    death_opportunity = _trials_to_first_success(rng, rng.beta(gamma, delta, size=count))
    alive_for = np.minimum(death_opportunity - 1, periods)
    opportunity = np.arange(1, periods + 1)[None, :]
    history = (rng.uniform(size=(count, periods)) < buy[:, None]) & (
        opportunity <= alive_for[:, None]
    )
    frequency = history.sum(axis=1).astype(np.int64)
    last = np.max(np.where(history, opportunity, 0), axis=1)
    return _summary(frequency, last.astype(np.float64), np.full(count, float(periods)), unit)


def simulate_sbg(
    n: int, alpha: float, beta: float, n_periods: int, seed: int | np.random.Generator
) -> tuple[IntArray, BoolArray]:
    r"""Simulate $n$ contract customers from the shifted-beta-geometric model, observed ``n_periods``.

    The story of Fader & Hardie (2007, "How to project customer retention"): a churn
    probability $\theta \sim \text{Beta}(\alpha, \beta)$ per customer; the lifetime (the period in
    which he cancels) is geometric on $\{1, 2, \dots\}$. Lifetimes beyond ``n_periods`` are
    censored.

    Args:
        n: Number of customers, >= 1.
        alpha: First shape parameter of the beta distribution of churn probabilities.
        beta: Second shape parameter of the beta distribution of churn probabilities.
        n_periods: Periods observed, >= 1.
        seed: Seed or generator of the random draws.

    Returns:
        ``(periods, churned)``: periods observed per customer (the churn period, or
        ``n_periods`` if still active) and whether the customer churned.

    Raises:
        InvalidInputError: When a parameter is out of range.

    Examples:
        >>> periods, churned = simulate_sbg(1000, alpha=0.704, beta=1.182, n_periods=7, seed=1)
        >>> int(periods.max()), bool(churned[periods < 7].all())
        (7, True)
    """
    model = "simulate_sbg"
    count = _count("n", n, model)
    alpha, beta = _positive("alpha", alpha, model), _positive("beta", beta, model)
    periods = _count("n_periods", n_periods, model)
    rng = np.random.default_rng(seed)
    lifetime = _trials_to_first_success(rng, rng.beta(alpha, beta, size=count))
    churned = lifetime <= periods
    return np.minimum(lifetime, periods).astype(np.int64), np.asarray(churned, dtype=np.bool_)


def simulate_sbg_cohort(
    n: int, alpha: float, beta: float, n_periods: int, seed: int | np.random.Generator
) -> IntArray:
    r"""Survivor counts $n_0 = n, n_1, \dots, n_k$ of a simulated sBG cohort ($k$ = ``n_periods``).

    The cohort view of ``simulate_sbg`` (same seed, same customers): $n_t$
    customers are still active after period $t$, the data format of Fader & Hardie (2007).

    Args:
        n: Cohort size, >= 1.
        alpha: First shape parameter of the beta distribution of churn probabilities.
        beta: Second shape parameter of the beta distribution of churn probabilities.
        n_periods: Periods observed, >= 1.
        seed: Seed or generator of the random draws.

    Returns:
        Non-increasing counts of length ``n_periods + 1``, starting with ``n``.

    Raises:
        InvalidInputError: When a parameter is out of range.

    Examples:
        >>> counts = simulate_sbg_cohort(1000, alpha=0.704, beta=1.182, n_periods=7, seed=1)
        >>> int(counts[0]), bool((counts[1:] <= counts[:-1]).all())
        (1000, True)
    """
    periods, churned = simulate_sbg(n, alpha, beta, n_periods, seed)
    t = np.arange(n_periods + 1)[:, None]
    still_active = ~churned[None, :] | (periods[None, :] > t)
    return np.asarray(still_active.sum(axis=1), dtype=np.int64)


# ---------------------------------------------------------------------------- transaction logs


_SPEND_PARAMETERS = ("p", "q", "gamma")
_MICROS_PER_DAY = 86_400_000_000
_ROWS_PER_BLOCK = 1 << 20
"""Transactions generated per block: bounds the temporaries whatever the size of the log."""


def _named_parameters(
    name: str, values: object, expected: tuple[str, ...], model: str
) -> tuple[float, ...]:
    """The values of ``expected`` keys of the mapping ``values``, each a float > 0."""
    if not isinstance(values, Mapping) or sorted(map(str, values)) != sorted(expected):
        raise InvalidInputError(
            f"The {name!r} parameter of {model} must be a mapping with exactly the keys "
            f"{list(expected)}. Got {values!r}."
        )
    return tuple(_positive(f"{name}[{key!r}]", values[key], model) for key in expected)


def _instant(name: str, value: object, model: str) -> int:
    """A naive date or time (ISO string, ``date``, ``datetime``, ``datetime64``) in microseconds."""
    aware = isinstance(value, dt.datetime) and value.tzinfo is not None
    try:
        instant = None if aware or value is None else np.datetime64(value, "us")  # type: ignore[call-overload]
    except (TypeError, ValueError):
        instant = None
    if instant is None or np.isnat(instant):
        raise InvalidInputError(
            f"The {name!r} parameter of {model} must be a naive date or time (an ISO 8601 string "
            f"such as '2021-01-01', a date, a naive datetime or a numpy datetime64). Got {value!r}."
        )
    return int(instant.astype(np.int64))


def _acquisition_weights(curve: object, n_periods: int, model: str) -> FloatArray | None:
    """Relative acquisition intensity per equal slice of the span, or ``None`` for uniform."""
    if curve is None:
        return None
    if callable(curve):
        midpoints = (np.arange(n_periods) + 0.5) / n_periods
        try:
            values = np.asarray(curve(midpoints), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"The 'acquisition_curve' of {model} must map an array of positions in [0, 1) "
                f"to an array of intensities; calling it failed: {exc}"
            ) from exc
        if values.shape != (n_periods,):
            raise InvalidInputError(
                f"The 'acquisition_curve' of {model} must return one intensity per position "
                f"(shape ({n_periods},)); got shape {values.shape}."
            )
    else:
        try:
            values = np.asarray(curve, dtype=np.float64)
        except (TypeError, ValueError):
            values = np.asarray(np.nan)
        if values.ndim != 1 or values.size == 0:
            raise InvalidInputError(
                f"The 'acquisition_curve' of {model} must be a callable or a non-empty "
                f"one-dimensional array of relative intensities. Got {curve!r}."
            )
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        raise InvalidInputError(
            f"The 'acquisition_curve' of {model} must give finite intensities >= 0. Got "
            f"{values[bad][:5].tolist()} at positions {np.flatnonzero(bad)[:5].tolist()}."
        )
    if not values.sum() > 0:
        raise InvalidInputError(
            f"The 'acquisition_curve' of {model} must give some intensity > 0; all "
            f"{values.size} are 0."
        )
    return np.asarray(values / values.sum(), dtype=np.float64)


def _acquisition_days(
    rng: np.random.Generator, count: int, span_days: float, weights: FloatArray | None
) -> FloatArray:
    """Sorted acquisition times in days after the start: uniform, or piecewise-uniform by slice."""
    if weights is None:
        days = rng.uniform(0.0, span_days, size=count)
    else:
        width = span_days / weights.size
        slices = rng.choice(weights.size, size=count, p=weights)
        days = (slices + rng.uniform(size=count)) * width
    days.sort()
    return np.asarray(days, dtype=np.float64)


def _floor_to_period(micros: IntArray, bucket: TimeUnit | None) -> IntArray:
    """Floor microseconds since the epoch to the start of their calendar period (in place)."""
    if bucket is None:
        return micros
    days = micros // _MICROS_PER_DAY
    if bucket is TimeUnit.WEEK:
        days -= (days + 3) % 7  # 1970-01-01 was a Thursday; weeks start on Monday.
    elif bucket is not TimeUnit.DAY:
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        if bucket is TimeUnit.QUARTER:
            months -= months % 3
        elif bucket is TimeUnit.YEAR:
            months -= months % 12
        days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    np.multiply(days, _MICROS_PER_DAY, out=micros)
    return micros


EventCounts = Callable[
    [np.random.Generator, tuple[float, ...], FloatArray], tuple[IntArray, IntArray, FloatArray]
]
r"""``f(rng, parameters, ages)``: per customer, repeat purchases $x$, Poisson events $N \ge x$
and the event horizon $h$. Given $N$ events of the purchase process on $(0, h)$, the $x$
purchases are the first $x$ of $N$ sorted uniform times on $(0, h)$."""


def _pareto_nbd_events(
    rng: np.random.Generator, parameters: tuple[float, ...], ages: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Pareto/NBD: every event of the purchase process within the lifetime is a purchase."""
    count = ages.size
    r, alpha, s, beta = parameters
    rate = rng.gamma(shape=r, scale=1.0 / alpha, size=count)
    dropout_rate = rng.gamma(shape=s, scale=1.0 / beta, size=count)
    with np.errstate(divide="ignore"):
        lifetime = rng.exponential(size=count) / dropout_rate
    horizon = np.minimum(lifetime, ages)
    events = rng.poisson(rate * horizon).astype(np.int64)
    return events, events, horizon


def _beta_geometric_events(
    rng: np.random.Generator,
    parameters: tuple[float, ...],
    ages: FloatArray,
    *,
    may_leave_at_start: bool,
) -> tuple[IntArray, IntArray, FloatArray]:
    """BG/NBD (and MBG/NBD with ``may_leave_at_start``): purchases until a geometric dropout."""
    count = ages.size
    r, alpha, a, b = parameters
    rate = rng.gamma(shape=r, scale=1.0 / alpha, size=count)
    dropout = rng.beta(a, b, size=count)
    gone_at_start = rng.uniform(size=count) < dropout if may_leave_at_start else False
    events = rng.poisson(rate * ages).astype(np.int64)
    repeats = np.minimum(events, _trials_to_first_success(rng, dropout))
    return np.where(gone_at_start, 0, repeats).astype(np.int64), events, ages


_EVENT_COUNTS: Mapping[str, EventCounts] = {
    "bgnbd": functools.partial(_beta_geometric_events, may_leave_at_start=False),
    "mbgnbd": functools.partial(_beta_geometric_events, may_leave_at_start=True),
    "paretonbd": _pareto_nbd_events,
}
"""The purchase story of each transaction model of ``simulate_transaction_log``, by registry
name (``tests/clv/test_registry.py`` checks that every registered model has one)."""

TRANSACTION_SIMULATORS: Mapping[str, Callable[..., CustomerSummary]] = {
    "bgnbd": simulate_bgnbd,
    "mbgnbd": simulate_mbgnbd,
    "paretonbd": simulate_paretonbd,
}
"""Registry name of a transaction model → its exact simulator ``simulate_<name>``, which takes
``(n, *parameters, T, seed, unit=...)`` with the parameters in ``parameter_names()`` order."""


def _fill_block(
    rng: np.random.Generator,
    customers: slice,
    repeats: IntArray,
    events: IntArray,
    horizon: FloatArray,
    first_days: FloatArray,
    days_per_unit: float,
) -> tuple[IntArray, FloatArray]:
    r"""Owner (block-local customer index) and time in days after the start of each row of a block.

    Each customer's rows are his first purchase, then his repeat purchases in time order. The
    first $x$ of $N$ sorted uniforms on $(0, h)$ are $h S_k / (S_x + G)$, $k = 1..x$, with
    $S_k$ the partial sums of $x$ standard exponentials and $G \sim \text{Gamma}(N - x + 1)$
    (Rényi's representation of uniform order statistics by normalised exponential spacings).
    """
    x = repeats[customers]
    rows = x + 1
    owner = np.repeat(np.arange(x.size), rows)
    starts = np.cumsum(rows) - rows
    gaps = rng.standard_exponential(owner.size)
    gaps[starts] = 0.0  # the first purchase of each customer is at his acquisition time
    sums = np.cumsum(gaps)
    sums -= np.repeat(sums[starts], rows)
    totals = sums[starts + x] + rng.standard_gamma((events[customers] - x + 1).astype(np.float64))
    scale = horizon[customers] * days_per_unit / totals
    days = sums * np.repeat(scale, rows)
    days += np.repeat(first_days[customers], rows)
    return owner, days


def simulate_transaction_log(
    n: int,
    model: str,
    params: Mapping[str, float],
    *,
    start: object,
    end: object,
    seed: int | np.random.Generator,
    acquisition_end: object = None,
    acquisition_curve: Callable[[FloatArray], ArrayLike] | ArrayLike | None = None,
    spend: Mapping[str, float] | None = None,
    period: str | TimeUnit | None = "D",
    unit: str | TimeUnit = "W",
) -> TransactionLog:
    r"""Simulate the transaction log of $n$ customers acquired over a span, with real timestamps.

    Customers are acquired (make their first purchase) between ``start`` and ``acquisition_end``
    — uniformly, or following ``acquisition_curve`` — and are observed until ``end``, so each
    cohort has its own observation length $T_i$. After the first purchase each customer buys by
    the generative story of ``model`` (exactly, in continuous time):

    - ``"bgnbd"``: BG/NBD, Fader, Hardie & Lee (2005, *Marketing Science* 24(2), assumptions
      i–v); ``params`` ``r, alpha, a, b``.
    - ``"mbgnbd"``: MBG/NBD, Batislam, Denizel & Filiztekin (2007); same parameters.
    - ``"paretonbd"``: Pareto/NBD, Schmittlein, Morrison & Colombo (1987); ``params``
      ``r, alpha, s, beta``.

    The story is that of [`simulate_bgnbd`][relmark.datasets.simulate.simulate_bgnbd] and its
    siblings, with the purchase times themselves drawn: given $N$ events of the purchase process
    on $(0, h)$ (Poisson, $h = T_i$, or the lifetime $\min(\omega, T_i)$ for Pareto/NBD) and $x$
    purchases before dropout, the purchases are the first $x$ of $N$ sorted uniforms on
    $(0, h)$. With ``spend`` (Gamma-Gamma, Fader, Hardie & Lee 2005, "RFM and CLV", *JMR* 42(4),
    after Colombo & Jiang 1999) each customer has $\nu \sim \text{Gamma}(q, \gamma)$ and every
    transaction, the first included, is worth $z \sim \text{Gamma}(p, \nu)$ (shapes $p, q$;
    rates $\gamma, \nu$), so a customer's mean spend is $p / \nu$.

    Timestamps are then floored to the start of their calendar ``period`` (``"D"``: midnight),
    the granularity of a real log. A summary by
    [`summarize`][relmark.data.log.TransactionLog.summarize] with the same ``period`` counts
    purchase periods, so two purchases in one period count once, as in any real log; refits at
    a period much shorter than the mean time between purchases recover the parameters.

    Rows are grouped by customer (ids ``0..n-1`` in order of acquisition), each customer's rows
    in time order. The work is vectorized and done in blocks of about a million transactions,
    so memory beyond the returned log stays bounded.

    Args:
        n: Number of customers, >= 1.
        model: A transaction model's registry name: ``"bgnbd"``, ``"mbgnbd"`` or
            ``"paretonbd"``.
        params: The model's parameters by name (those of its ``parameter_names()``), rates
            per ``unit``.
        start: First instant of the acquisition span (naive: ISO string, date, datetime or
            ``datetime64``).
        end: End of observation (exclusive); no transaction falls at or after it.
        seed: Seed or generator of the random draws.
        acquisition_end: End of the acquisition span (exclusive), at or before ``end``;
            ``end`` by default.
        acquisition_curve: Relative acquisition intensity over the span: an array of
            intensities of equal consecutive slices of the span, or a callable mapping an array
            of positions in $[0, 1)$ (fractions of the span) to intensities, evaluated at the
            midpoint of each of 1,024 equal slices. Within a slice acquisition is uniform.
            Uniform over the span by default.
        spend: Gamma-Gamma parameters ``p, q, gamma``; without it the log has no amounts.
        period: Granularity of the timestamps: ``"D"``, ``"W"`` (weeks start on Monday),
            ``"M"``, ``"Q"``, ``"Y"``, or ``None`` to keep them to the microsecond.
        unit: Time unit of the purchase and dropout rates in ``params``.

    Returns:
        A [`TransactionLog`][relmark.data.log.TransactionLog] with naive timestamps, and amounts
        when ``spend`` is given.

    Raises:
        InvalidInputError: Naming the argument, for an unknown model, missing or non-positive
            parameters, unparseable or out-of-order dates, or a bad acquisition curve.

    Examples:
        >>> log = simulate_transaction_log(
        ...     1000,
        ...     "bgnbd",
        ...     {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        ...     start="2021-01-01",
        ...     end="2024-01-01",
        ...     spend={"p": 6.25, "q": 3.74, "gamma": 15.44},
        ...     seed=1,
        ... )
        >>> log.n_customers, str(log.start) >= "2021-01-01", str(log.end) < "2024-01-01"
        (1000, True, True)
        >>> summary = log.summarize("2024-01-01")
        >>> bool(summary.T.max() <= 3 * 52.2)
        True
    """
    name = "simulate_transaction_log"
    count = _count("n", n, name)
    model_type = transaction_model(model, field="model", owner=name)
    if model_type.name not in _EVENT_COUNTS:
        raise InvalidInputError(
            f"The 'model' parameter of {name} must be a model with a simulator, one of "
            f"{sorted(_EVENT_COUNTS)}. Got {model!r}."
        )
    parameters = _named_parameters("params", params, model_type.parameter_names(), name)
    spend_parameters = (
        None if spend is None else _named_parameters("spend", spend, _SPEND_PARAMETERS, name)
    )
    bucket = None if period is None else parse_unit(period, field="period")
    days_per_unit = parse_unit(unit).days
    first = _instant("start", start, name)
    last = _instant("end", end, name)
    acquired_by = (
        last if acquisition_end is None else _instant("acquisition_end", acquisition_end, name)
    )
    if not first < acquired_by <= last:
        raise InvalidInputError(
            f"The dates of {name} must satisfy start < acquisition_end <= end. Got start="
            f"{start!r}, acquisition_end={acquisition_end!r}, end={end!r}."
        )
    weights = _acquisition_weights(acquisition_curve, 1024, name)
    rng = np.random.default_rng(seed)

    span_days = (acquired_by - first) / _MICROS_PER_DAY
    first_days = _acquisition_days(rng, count, span_days, weights)
    ages = ((last - first) / _MICROS_PER_DAY - first_days) / days_per_unit
    repeats, events, horizon = _EVENT_COUNTS[model_type.name](rng, parameters, ages)
    mean_spend_rate = (
        None
        if spend_parameters is None
        else rng.gamma(spend_parameters[1], 1.0 / spend_parameters[2], size=count)
    )

    rows_by_customer = np.cumsum(repeats + 1)
    total = int(rows_by_customer[-1])
    customer_id = np.empty(total, dtype=np.int64)
    micros = np.empty(total, dtype=np.int64)
    amount = None if spend_parameters is None else np.empty(total, dtype=np.float64)
    bounds = np.searchsorted(
        rows_by_customer, np.arange(_ROWS_PER_BLOCK, total, _ROWS_PER_BLOCK), side="right"
    )
    row = 0
    for low, high in zip(
        np.concatenate([[0], bounds]), np.concatenate([bounds, [count]]), strict=True
    ):
        if low == high:
            continue
        customers = slice(int(low), int(high))
        owner, days = _fill_block(
            rng, customers, repeats, events, horizon, first_days, days_per_unit
        )
        rows = slice(row, row + owner.size)
        customer_id[rows] = owner + int(low)
        # The last purchase is at most `end`; float rounding must not push it past `end`.
        micros[rows] = np.minimum(first + np.floor(days * _MICROS_PER_DAY), last - 1)
        if amount is not None and mean_spend_rate is not None and spend_parameters is not None:
            amount[rows] = rng.standard_gamma(spend_parameters[0], size=owner.size)
            amount[rows] /= mean_spend_rate[customers][owner]
        row = rows.stop
    _floor_to_period(micros, bucket)
    return TransactionLog.from_arrays(customer_id, micros.view("datetime64[us]"), amount)
