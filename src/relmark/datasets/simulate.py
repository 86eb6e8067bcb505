"""Exact simulators: draw customers from a model's generative story, in continuous time."""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike

from relmark.data.summary import CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError

__all__ = ["simulate_bgnbd"]


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
    model = "simulate_bgnbd"
    try:
        count = -1 if isinstance(n, bool) else operator.index(n)
    except TypeError:
        count = -1
    if count < 1:
        raise InvalidInputError(f"The 'n' parameter of {model} must be an int >= 1. Got {n!r}.")
    r = _positive("r", r, model)
    alpha = _positive("alpha", alpha, model)
    a = _positive("a", a, model)
    b = _positive("b", b, model)
    try:
        ages = np.broadcast_to(np.asarray(T, dtype=np.float64), (count,)).copy()
    except ValueError:
        raise InvalidInputError(
            f"The 'T' parameter of {model} must be a scalar or have one value per customer "
            f"({count}); got shape {np.shape(T)}."
        ) from None
    bad = ~(np.isfinite(ages) & (ages > 0))
    if bad.any():
        raise InvalidInputError(
            f"The 'T' parameter of {model} must be finite and > 0 (a scalar or one value per "
            f"customer). Got {ages[bad][:5].tolist()}."
        )
    rng = np.random.default_rng(seed)
    rate = rng.gamma(shape=r, scale=1.0 / alpha, size=count)
    dropout = rng.beta(a, b, size=count)
    events = rng.poisson(rate * ages)
    # A beta draw can underflow to exactly 0: such a customer never drops out.
    never = dropout <= 0.0
    repeats_before_dropout = rng.geometric(np.where(never, 1.0, dropout))
    repeats_before_dropout[never] = np.iinfo(np.int64).max
    frequency = np.minimum(events, repeats_before_dropout).astype(np.int64)
    bought = frequency > 0
    order_statistic = rng.beta(
        np.where(bought, frequency, 1), np.where(bought, events - frequency + 1, 1)
    )
    recency = np.where(bought, ages * order_statistic, 0.0)
    return CustomerSummary(
        customer_id=np.arange(count, dtype=np.int64),
        frequency=frequency,
        recency=recency,
        T=ages,
        unit=parse_unit(unit),
    )
