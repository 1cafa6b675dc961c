"""The grants app's models, in named parts:

- `programmes`: the donor's money and its rules; `calls`: its calls for applications;
- `applications`: applications and their workflow (transitions set the state and the
  fields derived from it, nothing else: permission checks, locking, budget commitment,
  audit rows and notifications are in grants.services);
- `finance`: equipment, commitments, exchange rates and deliveries;
- `contracts`: the grant contract, the own contribution and its payments;
- `procurement`: suppliers, conflicts of interest, quotes and purchase orders;
- `selection`: a programme manager's override of the one-grant-per-household rule;
- `documents`, `notifications`.

The audit trail's models belong to this app too (their tables, migrations and
permissions are grants'), but live in audit.models, below every app, so that every app
can write to the trail. Every model is importable from `grants.models`.
"""

# Registers the audit trail's models under this app (their app_label is "grants").
from audit.models import ERASED_TEXT, AuditChainHead, AuditEvent, AuditText

from .applications import (
    STATE_LABELS,
    TRANSITION_NAMES,
    ApplicationQuerySet,
    CooperativeMember,
    GrantApplication,
    GrantApplicationGroupObjectPermission,
    GrantApplicationUserObjectPermission,
)
from .calls import Call, CallQuerySet
from .common import MAX_QUANTITY, MONEY, Currency, Sector, max_length
from .contracts import (
    ContributionPayment,
    GrantContract,
    RuleTiming,
    contribution_expected,
    contribution_of,
    contribution_outstanding,
    contribution_paid,
)
from .documents import Document, DocumentKind, document_key
from .finance import (
    Commitment,
    CommitmentQuerySet,
    CostReapproval,
    Delivery,
    DeliveryLine,
    DeliveryLineQuerySet,
    DeliveryQuerySet,
    EquipmentItem,
    EquipmentItemQuerySet,
    EquipmentOutcome,
    ExchangeRate,
    programme_committed,
)
from .notifications import Notification
from .procurement import (
    IBAN_LENGTH_LIMIT,
    ConflictDeclaration,
    PurchaseOrder,
    Supplier,
    SupplierQuote,
    iban_is_valid,
    normalised_iban,
)
from .programmes import CommitteeResult, ListApprover, Programme, RegionalProgramme, default_visit_months
from .scopes import ProgrammeScope
from .selection import HouseholdOverride
from .transfers import CaseTransfer

__all__ = [
    "IBAN_LENGTH_LIMIT",
    "ERASED_TEXT",
    "MAX_QUANTITY",
    "MONEY",
    "STATE_LABELS",
    "TRANSITION_NAMES",
    "ApplicationQuerySet",
    "AuditChainHead",
    "AuditEvent",
    "AuditText",
    "Call",
    "CaseTransfer",
    "CallQuerySet",
    "Commitment",
    "ContributionPayment",
    "ConflictDeclaration",
    "CommitmentQuerySet",
    "CooperativeMember",
    "CostReapproval",
    "CommitteeResult",
    "Currency",
    "Delivery",
    "DeliveryLine",
    "DeliveryLineQuerySet",
    "DeliveryQuerySet",
    "Document",
    "DocumentKind",
    "EquipmentItem",
    "EquipmentItemQuerySet",
    "EquipmentOutcome",
    "ExchangeRate",
    "GrantApplication",
    "GrantContract",
    "GrantApplicationGroupObjectPermission",
    "GrantApplicationUserObjectPermission",
    "HouseholdOverride",
    "ListApprover",
    "Notification",
    "Programme",
    "RegionalProgramme",
    "ProgrammeScope",
    "RuleTiming",
    "contribution_expected",
    "contribution_of",
    "contribution_outstanding",
    "contribution_paid",
    "PurchaseOrder",
    "Sector",
    "Supplier",
    "SupplierQuote",
    "default_visit_months",
    "document_key",
    "iban_is_valid",
    "max_length",
    "normalised_iban",
    "programme_committed",
]
