"""Writes of the grants app, in named parts: `applications` (drafts, transitions,
reassignment), `finance` (exchange rates, deliveries), `contracts` (the grant contract,
own contribution, registration), `programmes` (the admin's edits), `selection` (household
overrides, reduced approvals), `cooperatives` (members, registration) `transfers`
(a person's case moving to another centre) and `scopes` (staff narrowed to programmes). Each runs in one
transaction, checks the permission first and writes an audit event. Every function is
importable from `grants.services`."""

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
from .assets import discontinue_grant
from .contracts import (
    contract_pdf_for,
    issue_contract,
    note_signed_contract,
    record_contribution_payment,
    record_registration,
    reverse_contribution_payment,
)
from .cooperatives import (
    add_member,
    find_person,
    remove_member,
    set_cooperative,
    set_members,
)
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
from .scopes import set_programme_scope
from .selection import approve_reduced, record_household_override
from .transfers import confirm_transfer, decline_transfer, request_transfer, transfer_case

__all__ = [
    "add_member",
    "find_person",
    "remove_member",
    "set_cooperative",
    "set_members",
    "DRAFT_FACTS",
    "PLAN_FIELDS",
    "PROGRAMME_FACTS",
    "applicant_of",
    "contract_pdf_for",
    "approve_reduced",
    "available_transitions",
    "can_create_for",
    "cost_limits",
    "create_application",
    "delivered_cost",
    "discontinue_grant",
    "delete_programme",
    "eur_rate",
    "grant_owner_permissions",
    "issue_contract",
    "load_exchange_rates",
    "locked",
    "open_call_for",
    "maybe_complete_delivery",
    "note_signed_contract",
    "reapprove_cost",
    "reassign_application",
    "record_contribution_payment",
    "record_household_override",
    "record_delivery_lines",
    "record_registration",
    "reverse_contribution_payment",
    "save_programme",
    "save_programme_rows",
    "take_transition",
    "unmet_rules",
    "update_draft",
    "confirm_transfer",
    "decline_transfer",
    "request_transfer",
    "transfer_case",
    "set_programme_scope",
]
