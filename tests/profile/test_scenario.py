"""Scenario: one customer from account opening through purchases to analysis-driven questions."""

from __future__ import annotations

import datetime as dt

from relmark.data.log import TransactionLog
from relmark.domain import Channel, Customer, CustomerId
from relmark.profile import (
    PriceSensitivity,
    ProfileBuilder,
    PurchaseIntent,
    Stage,
    ValueSource,
)

T0 = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def asked(builder: ProfileBuilder, profile: object, budget: int, now: dt.datetime) -> list[str]:
    return [f.name for f in builder.next_questions(profile, budget=budget, now=now)]  # type: ignore[arg-type]


def test_customer_walkthrough() -> None:
    """Stage transitions and the questions asked at each step follow the staged process."""
    b = ProfileBuilder()
    ada = Customer(customer_id=CustomerId("ada"), opened_at=T0, email="ada@example.org")

    # 1. Account opening: only the e-mail is known; the missing required identification comes first.
    p = b.new(ada)
    assert p.stage is Stage.IDENTIFICATION
    assert asked(b, p, 2, T0) == ["full_name", "country"]
    p = b.observe_many(
        p,
        {"full_name": "Ada L.", "country": "GB"},
        source=ValueSource.DECLARED,
        at=T0,
        channel=Channel.WEB,
    )

    # 2. Identification complete, no purchases yet: stage 2 is derived, never asked, and nothing
    #    from stage 3 may be asked; only optional identification remains.
    assert p.stage is Stage.TRANSACTIONAL
    assert asked(b, p, 5, T0 + DAY) == ["postal_code", "date_of_birth"]

    # 3. Ada buys three times; the purchase history is summarized and derived into stage 2.
    log = TransactionLog.from_arrays(
        ["ada", "ada", "ada", "bob"],
        ["2024-01-11", "2024-02-10", "2024-04-10", "2024-01-20"],
        [20.0, 35.0, 50.0, 10.0],
    )
    summary = log.summarize("2024-04-30", period="D", unit="W")
    at = T0 + 120 * DAY
    (p,) = b.derive([p], summary, at=at)
    assert p.value("repeat_purchases") == 2
    assert p.value("lifecycle_stage") == "retention"
    assert p.stage is Stage.NEEDS

    # 4. Analysis-driven follow-up needs consent for personalisation: without it, none is asked.
    assert asked(b, p, 5, at) == ["postal_code", "date_of_birth"]
    p = b.grant_consent(p, "personalisation", at=at, channel=Channel.EMAIL)
    # Required stage-3 fields first, ordered by information value (purchase intent moves the
    # customer's value most), then the next most informative optional question.
    assert asked(b, p, 3, at) == ["purchase_intent", "price_sensitivity", "buys_as_gifts"]
    # contact_frequency waits for preferred_contact_channel
    assert "contact_frequency" not in asked(b, p, 20, at)
    p = b.observe_many(
        p,
        {"purchase_intent": PurchaseIntent.LIKELY, "price_sensitivity": PriceSensitivity.LOW},
        source=ValueSource.DECLARED,
        at=at,
        channel=Channel.EMAIL,
    )
    p = b.observe(p, "preferred_contact_channel", Channel.EMAIL, source=ValueSource.DECLARED, at=at)
    assert "contact_frequency" in asked(b, p, 20, at)

    # 5. Needs known: stage 4 reached, but partnership questions need their own consent.
    assert p.stage is Stage.PARTNERSHIP
    assert not {"referral_willingness", "co_creation_interest"} & set(asked(b, p, 20, at))
    p = b.grant_consent(p, "partnership", at=at)
    partnership = asked(b, p, 20, at)
    # Default models, by hand: referral willingness removes variance 0.0241, co-creation interest
    # 0.0144, both more than buying gifts (0.0096).
    assert partnership[:3] == ["referral_willingness", "co_creation_interest", "buys_as_gifts"]
    assert "advisory_panel" not in partnership
    p = b.observe(p, "co_creation_interest", True, source=ValueSource.DECLARED, at=at)
    assert "advisory_panel" in asked(b, p, 20, at)

    # 6. Ninety days later the purchase intent is stale and is asked again; the old answer stays.
    later = at + 90 * DAY
    assert "purchase_intent" in asked(b, p, 20, later)
    assert "price_sensitivity" not in asked(b, p, 20, later)
    p = b.observe(p, "purchase_intent", PurchaseIntent.NONE, source=ValueSource.DECLARED, at=later)
    assert [v.value for v in p.history("purchase_intent")] == [
        PurchaseIntent.LIKELY,
        PurchaseIntent.NONE,
    ]

    # 7. Ada withdraws consent for personalisation: no more stage-3 questions.
    p = b.withdraw_consent(p, "personalisation", at=later + DAY)
    assert not {"buys_as_gifts", "household_size"} & set(asked(b, p, 20, later + 2 * DAY))
