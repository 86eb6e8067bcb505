"""Simulated campaign responses with a known true effect, for tests, demos and planning.

[`simulate_responses`][relmark.program.simulation.simulate_responses] draws, for every customer
of a campaign, whether they buy in the response window: with probability ``control_rate[state]``
when held out, plus ``uplift[(state, action)]`` when contacted with ``action`` (for a customer
planned for several actions the uplifts add). Each responder makes one purchase at a uniform time
in the window, of a gamma-distributed amount. Because the truth is known, a report computed from
the result can be checked against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC as _UTC

import numpy as np

from relmark.data import TransactionLog
from relmark.errors import InvalidInputError
from relmark.program.campaigns import Arm, Campaign

__all__ = ["simulate_responses"]


def simulate_responses(
    campaign: Campaign,
    *,
    control_rate: Mapping[str, float],
    uplift: Mapping[tuple[str, str], float],
    mean_amount: float = 50.0,
    amount_shape: float = 2.0,
    seed: int,
) -> TransactionLog:
    """Purchases in the campaign's response window, drawn with known response rates.

    Args:
        campaign: The campaign (its contacts, arms and window; ``start`` in any zone).
        control_rate: State → response probability without contact.
        uplift: ``(state, action)`` → added response probability when contacted (0 if absent).
        mean_amount: Mean purchase amount, > 0.
        amount_shape: Gamma shape of the amount (smaller is more skewed), > 0.
        seed: Seed of the random generator.

    Returns:
        A transaction log (UTC) with one purchase per responder.

    Raises:
        InvalidInputError: For a state without a control rate, or a probability outside [0, 1].

    Examples:
        >>> from datetime import datetime, timezone
        >>> from relmark.program import Campaign
        >>> empty = Campaign(
        ...     campaign_id="c",
        ...     start=datetime(2024, 1, 1, tzinfo=timezone.utc),
        ...     response_window_days=7,
        ...     control_share=0.2,
        ...     by="segment",
        ...     actions=(),
        ...     contacts=(),
        ... )
        >>> len(simulate_responses(empty, control_rate={}, uplift={}, seed=1))
        0
    """
    if not (mean_amount > 0 and amount_shape > 0):
        raise InvalidInputError("'mean_amount' and 'amount_shape' must be > 0.")
    probability: dict[str, float] = {}
    for contact in campaign.contacts:
        if contact.state not in control_rate:
            raise InvalidInputError(
                f"No control rate for state {contact.state!r} (customer {contact.customer_id!r})."
            )
        base = probability.setdefault(contact.customer_id, float(control_rate[contact.state]))
        if contact.arm is Arm.TREATMENT:
            probability[contact.customer_id] = base + float(
                uplift.get((contact.state, contact.action), 0.0)
            )
    ids = np.array(sorted(probability), dtype=np.str_)
    p = np.array([probability[c] for c in ids.tolist()], dtype=np.float64)
    if ((p < 0) | (p > 1)).any():
        bad = ids[(p < 0) | (p > 1)][:5].tolist()
        raise InvalidInputError(f"Response probabilities outside [0, 1] for customers {bad}.")
    rng = np.random.default_rng(seed)
    responded = rng.random(ids.size) < p
    n = int(responded.sum())
    start = np.datetime64(campaign.start.astimezone(_UTC).replace(tzinfo=None), "us")
    window_us = int(campaign.response_window_days * 86_400e6)
    offsets = rng.integers(0, window_us, size=n)
    amounts = rng.gamma(amount_shape, mean_amount / amount_shape, size=n)
    return TransactionLog.from_arrays(
        ids[responded], start + offsets.astype("timedelta64[us]"), amounts, timezone="UTC"
    )
