"""The relationship program loop: from scores to actions, campaigns, response tracking, learning.

A program runs in cycles: describe each customer's state
([`CustomerStates`][relmark.program.actions.CustomerStates]), let a
[`Playbook`][relmark.program.actions.Playbook] propose actions, choose a contact list under a
budget ([`plan_contacts`][relmark.program.selection.plan_contacts]), record it as a
[`Campaign`][relmark.program.campaigns.Campaign] with a randomised control group, read the
response-tracking report ([`response_report`][relmark.program.tracking.response_report]) and
update the response-rate beliefs ([`ResponseBeliefs`][relmark.program.learning.ResponseBeliefs])
the next cycle's selection uses. See the explanation page "The relationship program loop".
"""

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
    from relmark.program.actions import (
        DEFAULT_ACTIONS,
        DEFAULT_PLAYBOOK,
        DEFAULT_STATE_SPACE,
        DIMENSIONS,
        Action,
        Conflict,
        CustomerStates,
        Depth,
        Playbook,
        PlaybookLint,
        Rule,
        StateSpace,
        activity_bands,
    )
    from relmark.program.campaigns import (
        Arm,
        Campaign,
        Contact,
        assign_holdout,
        holdout_keys,
    )
    from relmark.program.learning import (
        CONTROL,
        ActionPrior,
        Evidence,
        ResponseBeliefs,
        moment_rho,
    )
    from relmark.program.loop import (
        ProgramState,
        load_state,
        save_state,
    )
    from relmark.program.recovery import (
        RecoveryGroup,
        RecoveryList,
        RecoveryReport,
        complaints_to_recover,
        recovery_report,
    )
    from relmark.program.selection import (
        ContactPlan,
        plan_contacts,
        select_contacts,
    )
    from relmark.program.simulation import simulate_responses
    from relmark.program.tracking import (
        ArmRow,
        EffectRow,
        QiniRow,
        ResponseReport,
        newcombe_interval,
        plot_uplift,
        qini_coefficient,
        qini_curve,
        response_report,
        welch_interval,
        wilson_interval,
    )

__all__ = [
    "CONTROL",
    "DEFAULT_ACTIONS",
    "DEFAULT_PLAYBOOK",
    "DEFAULT_STATE_SPACE",
    "DIMENSIONS",
    "Action",
    "ActionPrior",
    "Arm",
    "ArmRow",
    "Campaign",
    "Conflict",
    "Contact",
    "ContactPlan",
    "CustomerStates",
    "Depth",
    "EffectRow",
    "Evidence",
    "Playbook",
    "PlaybookLint",
    "ProgramState",
    "QiniRow",
    "RecoveryGroup",
    "RecoveryList",
    "RecoveryReport",
    "ResponseBeliefs",
    "ResponseReport",
    "Rule",
    "StateSpace",
    "activity_bands",
    "assign_holdout",
    "complaints_to_recover",
    "holdout_keys",
    "load_state",
    "moment_rho",
    "newcombe_interval",
    "plan_contacts",
    "plot_uplift",
    "qini_coefficient",
    "qini_curve",
    "recovery_report",
    "response_report",
    "save_state",
    "select_contacts",
    "simulate_responses",
    "welch_interval",
    "wilson_interval",
]

_HOMES = {
    "Action": "relmark.program.actions",
    "ActionPrior": "relmark.program.learning",
    "Arm": "relmark.program.campaigns",
    "ArmRow": "relmark.program.tracking",
    "CONTROL": "relmark.program.learning",
    "Campaign": "relmark.program.campaigns",
    "Conflict": "relmark.program.actions",
    "Contact": "relmark.program.campaigns",
    "ContactPlan": "relmark.program.selection",
    "CustomerStates": "relmark.program.actions",
    "DEFAULT_ACTIONS": "relmark.program.actions",
    "DEFAULT_PLAYBOOK": "relmark.program.actions",
    "DEFAULT_STATE_SPACE": "relmark.program.actions",
    "DIMENSIONS": "relmark.program.actions",
    "Depth": "relmark.program.actions",
    "EffectRow": "relmark.program.tracking",
    "Evidence": "relmark.program.learning",
    "Playbook": "relmark.program.actions",
    "PlaybookLint": "relmark.program.actions",
    "ProgramState": "relmark.program.loop",
    "QiniRow": "relmark.program.tracking",
    "RecoveryGroup": "relmark.program.recovery",
    "RecoveryList": "relmark.program.recovery",
    "RecoveryReport": "relmark.program.recovery",
    "ResponseBeliefs": "relmark.program.learning",
    "ResponseReport": "relmark.program.tracking",
    "Rule": "relmark.program.actions",
    "StateSpace": "relmark.program.actions",
    "activity_bands": "relmark.program.actions",
    "assign_holdout": "relmark.program.campaigns",
    "complaints_to_recover": "relmark.program.recovery",
    "holdout_keys": "relmark.program.campaigns",
    "load_state": "relmark.program.loop",
    "moment_rho": "relmark.program.learning",
    "newcombe_interval": "relmark.program.tracking",
    "plan_contacts": "relmark.program.selection",
    "plot_uplift": "relmark.program.tracking",
    "qini_coefficient": "relmark.program.tracking",
    "qini_curve": "relmark.program.tracking",
    "recovery_report": "relmark.program.recovery",
    "response_report": "relmark.program.tracking",
    "save_state": "relmark.program.loop",
    "select_contacts": "relmark.program.selection",
    "simulate_responses": "relmark.program.simulation",
    "welch_interval": "relmark.program.tracking",
    "wilson_interval": "relmark.program.tracking",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
