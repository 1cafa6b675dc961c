"""Writes of the grants app, in named parts: `applications` (drafts, transitions,
reassignment), `finance` (exchange rates, deliveries) and `programmes` (the admin's
edits). Each runs in one transaction, checks the permission first and writes an audit
event. Every function is importable from `grants.services`."""

from .applications import (
    DRAFT_FACTS,
    PLAN_FIELDS,
    applicant_of,
    available_transitions,
    can_create_for,
    create_application,
    grant_owner_permissions,
    locked,
    reassign_application,
    take_transition,
    unmet_rules,
    update_draft,
)
from .assets import discontinue_grant
from .finance import (
    cost_limits,
    delivered_cost,
    eur_rate,
    load_exchange_rates,
    maybe_complete_delivery,
    reapprove_cost,
    record_delivery_lines,
)
from .programmes import PROGRAMME_FACTS, delete_programme, save_programme, save_programme_rows

__all__ = [
    "DRAFT_FACTS",
    "PLAN_FIELDS",
    "PROGRAMME_FACTS",
    "applicant_of",
    "available_transitions",
    "can_create_for",
    "cost_limits",
    "create_application",
    "delivered_cost",
    "discontinue_grant",
    "delete_programme",
    "eur_rate",
    "grant_owner_permissions",
    "load_exchange_rates",
    "locked",
    "maybe_complete_delivery",
    "reapprove_cost",
    "reassign_application",
    "record_delivery_lines",
    "save_programme",
    "save_programme_rows",
    "take_transition",
    "unmet_rules",
    "update_draft",
]
