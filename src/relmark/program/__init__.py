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

from __future__ import annotations

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
