"""Writing the audit trail: one call per event, inside the caller's transaction."""

from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent


def record(
    *,
    action,
    actor=None,
    application=None,
    applicant=None,
    on_behalf_of=None,
    from_state="",
    to_state="",
    comment="",
    data=None,
):
    """Append an event to the hash chain. Locks the chain head, so appends are ordered
    even when several processes write at once; the lock is held until the caller's
    transaction commits, which keeps the chain free of forks."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        if applicant is None and application is not None:
            applicant = application.applicant
        event = AuditEvent(
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_username=getattr(actor, "username", "") or "",
            on_behalf_of=on_behalf_of,
            application=application,
            applicant=applicant,
            action=action,
            from_state=from_state or "",
            to_state=to_state or "",
            comment=comment or "",
            data=data or {},
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        AuditChainHead.objects.filter(pk=1).update(last_hash=event.hash)
        return event
