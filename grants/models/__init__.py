"""The grants app's models, in named parts:

- `programmes`: the donor's money and its rules; `calls`: its calls for applications;
- `applications`: applications and their workflow (transitions set the state and the
  fields derived from it, nothing else: permission checks, locking, budget commitment,
  audit rows and notifications are in grants.services);
- `finance`: equipment, commitments, exchange rates and deliveries;
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
    GrantApplication,
    GrantApplicationGroupObjectPermission,
    GrantApplicationUserObjectPermission,
)
from .calls import Call, CallQuerySet
from .common import MAX_QUANTITY, MONEY, Currency, Sector, max_length
from .documents import Document, DocumentKind, document_key
from .finance import (
    Commitment,
    CommitmentQuerySet,
    Delivery,
    DeliveryLine,
    DeliveryLineQuerySet,
    EquipmentItem,
    EquipmentItemQuerySet,
    ExchangeRate,
    programme_committed,
)
from .notifications import Notification
from .programmes import CommitteeResult, ListApprover, Programme, default_visit_months

__all__ = [
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
    "CallQuerySet",
    "Commitment",
    "CommitmentQuerySet",
    "CommitteeResult",
    "Currency",
    "Delivery",
    "DeliveryLine",
    "DeliveryLineQuerySet",
    "Document",
    "DocumentKind",
    "EquipmentItem",
    "EquipmentItemQuerySet",
    "ExchangeRate",
    "GrantApplication",
    "GrantApplicationGroupObjectPermission",
    "GrantApplicationUserObjectPermission",
    "ListApprover",
    "Notification",
    "Programme",
    "Sector",
    "default_visit_months",
    "document_key",
    "max_length",
    "programme_committed",
]
