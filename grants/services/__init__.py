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
    open_call_for,
    reassign_application,
    take_transition,
    unmet_rules,
    update_draft,
)
from .finance import eur_rate, load_exchange_rates, maybe_complete_delivery, record_delivery_lines
from .programmes import PROGRAMME_FACTS, delete_programme, save_programme, save_programme_rows

__all__ = [
    "DRAFT_FACTS",
    "PLAN_FIELDS",
    "PROGRAMME_FACTS",
    "applicant_of",
    "available_transitions",
    "can_create_for",
    "create_application",
    "delete_programme",
    "eur_rate",
    "grant_owner_permissions",
    "load_exchange_rates",
    "locked",
    "open_call_for",
    "maybe_complete_delivery",
    "reassign_application",
    "record_delivery_lines",
    "save_programme",
    "save_programme_rows",
    "take_transition",
    "unmet_rules",
    "update_draft",
]
