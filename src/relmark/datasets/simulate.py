r"""Exact simulators: draw customers from a model's generative story, with no approximation.

The continuous-time models (BG/NBD, MBG/NBD, Pareto/NBD) are simulated with no time
discretisation, so a refit on simulated data is unbiased up to sampling error; their simulators
return a [`CustomerSummary`][relmark.data.summary.CustomerSummary]. The BG/BB simulator returns a
summary whose ``recency`` and ``T`` count transaction opportunities; the shifted-beta-geometric
ones return per-customer (periods observed, churned) arrays or a cohort's survivor counts.
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike

from relmark.data.summary import CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import BoolArray, FloatArray, IntArray

__all__ = [
    "simulate_bgbb",
    "simulate_bgnbd",
    "simulate_mbgnbd",
    "simulate_pareto_nbd",
    "simulate_sbg",
    "simulate_sbg_cohort",
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


def simulate_pareto_nbd(
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
        >>> s = simulate_pareto_nbd(500, r=0.55, alpha=10.6, s=0.61, beta=11.7, T=39.0, seed=1)
        >>> len(s), bool((s.recency <= s.T).all())
        (500, True)
    """
    model = "simulate_pareto_nbd"
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
