"""The program's state between cycles, persisted as JSON so the loop survives a restart.

[`ProgramState`][relmark.program.loop.ProgramState] holds the response-rate beliefs and every
campaign and report so far. [`ProgramState.record`][relmark.program.loop.ProgramState.record]
adds a campaign with its report and folds the report's evidence into the beliefs; the next
cycle's [`plan_contacts`][relmark.program.selection.plan_contacts] then uses the updated beliefs.
[`save_state`][relmark.program.loop.save_state] writes the state through `relmark.io` to a
temporary file next to the target and renames it over the target, so a crash never leaves a half
written file; [`load_state`][relmark.program.loop.load_state] reads it back exactly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from relmark.errors import InvalidInputError
from relmark.io import from_json, to_json
from relmark.program.campaigns import Campaign
from relmark.program.learning import ResponseBeliefs
from relmark.program.tracking import ResponseReport

__all__ = ["ProgramState", "load_state", "save_state"]


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ProgramState:
    """Beliefs, campaigns and reports of a relationship program.

    Attributes:
        beliefs: Current response-rate beliefs (priors plus all evidence so far).
        campaigns: Campaigns in the order they were recorded.
        reports: Reports, one per campaign id that has been read.
    """

    beliefs: ResponseBeliefs
    campaigns: tuple[Campaign, ...] = attrs.field(default=(), converter=_to_tuple)
    reports: tuple[ResponseReport, ...] = attrs.field(default=(), converter=_to_tuple)

    def __attrs_post_init__(self) -> None:
        """Check campaign ids are unique and every report belongs to a campaign."""
        ids = [c.campaign_id for c in self.campaigns]
        if len(set(ids)) != len(ids):
            raise InvalidInputError(f"Campaign ids in a ProgramState must be unique; got {ids}.")
        orphans = [r.campaign_id for r in self.reports if r.campaign_id not in ids]
        if orphans:
            raise InvalidInputError(f"Reports for unknown campaign(s) {orphans}.")

    def campaign(self, campaign_id: str) -> Campaign:
        """The campaign with this id.

        Raises:
            InvalidInputError: When there is none, listing the ids there are.
        """
        for campaign in self.campaigns:
            if campaign.campaign_id == campaign_id:
                return campaign
        raise InvalidInputError(
            f"No campaign {campaign_id!r} in the program state; it has "
            f"{[c.campaign_id for c in self.campaigns]}."
        )

    def with_campaign(self, campaign: Campaign) -> ProgramState:
        """This state with a planned campaign added (its report comes later).

        Raises:
            InvalidInputError: When the id is taken or the campaign's state dimension differs
                from the beliefs'.
        """
        if campaign.by != self.beliefs.by:
            raise InvalidInputError(
                f"Campaign {campaign.campaign_id!r} states are {campaign.by!r} but the beliefs "
                f"are kept per {self.beliefs.by!r}."
            )
        return attrs.evolve(self, campaigns=(*self.campaigns, campaign))

    def with_report(self, report: ResponseReport) -> ProgramState:
        """This state with a campaign's report added and its evidence learned.

        Raises:
            InvalidInputError: When the campaign is unknown or already has a report.
        """
        self.campaign(report.campaign_id)
        if any(r.campaign_id == report.campaign_id for r in self.reports):
            raise InvalidInputError(
                f"Campaign {report.campaign_id!r} already has a report; each is learned once."
            )
        return attrs.evolve(
            self,
            beliefs=self.beliefs.with_evidence(report.evidence),
            reports=(*self.reports, report),
        )

    def record(self, campaign: Campaign, report: ResponseReport) -> ProgramState:
        """Add a campaign and its report, and learn from the report.

        Raises:
            InvalidInputError: When the report is of another campaign, the campaign id is taken,
                or the campaign's state dimension differs from the beliefs'.
        """
        if report.campaign_id != campaign.campaign_id:
            raise InvalidInputError(
                f"The report is of campaign {report.campaign_id!r}, not {campaign.campaign_id!r}."
            )
        return self.with_campaign(campaign).with_report(report)


def save_state(state: ProgramState, path: str | Path) -> None:
    """Write the program state as JSON, atomically (temporary file, then rename).

    Args:
        state: What to write.
        path: Target file; replaced if it exists.
    """
    target = Path(path)
    text = to_json(state, indent=1)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_state(path: str | Path) -> ProgramState:
    """Read a program state written by [`save_state`][relmark.program.loop.save_state].

    Raises:
        InvalidPayloadError: When the file is not a valid program state, listing every problem.
    """
    return from_json(Path(path).read_text(encoding="utf-8"), ProgramState)
