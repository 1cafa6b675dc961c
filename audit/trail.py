"""Writing the audit trail: one call per event, inside the caller's transaction."""

from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent, AuditText

# The people the trail is about: the model its `applicant` relation points to (named
# there by string, so that the trail imports no app).
_Applicant = AuditEvent._meta.get_field("applicant").related_model


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
    transaction commits, which keeps the chain free of forks.

    `comment` is free text (a reason, a note): it is stored beside the chain and only its
    salted digest is hashed, so erasure can remove it. `data` is hashed as it is and
    stays for good: ids, states, amounts, dates, choices, never free text about a person."""
    comment = comment or ""
    salt = AuditText.new_salt() if comment else ""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        if applicant is None and application is not None:
            applicant = application.applicant
        event = AuditEvent(
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_username=_kept_username(actor),
            on_behalf_of=on_behalf_of,
            application=application,
            applicant=applicant,
            action=action,
            from_state=from_state or "",
            to_state=to_state or "",
            text_digest=AuditText.digest(comment, salt) if comment else "",
            data=data or {},
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        if comment:
            event.free_text = AuditText.objects.create(event=event, text=comment, salt=salt)
        AuditChainHead.objects.filter(pk=1).update(last_hash=event.hash)
        return event


def _kept_username(actor):
    """Staff usernames stay in the chain, so the trail names who acted even after an
    account is renamed. An applicant's username may be their name: it is left out, and
    readers name them through the account, which erasure renames."""
    if getattr(actor, "pk", None) is None:
        return ""
    if _Applicant.objects.filter(user_id=actor.pk).exists():
        return ""
    return actor.username


def verify_chain(*, anchor=None):
    """Walk the chain in the order it was written and return what breaks it: an event
    whose content no longer matches its hash (edited), whose free text no longer matches
    the digest the chain holds (a text erased is no break: its digest stays), whose link
    does not point at the event before it (inserted or deleted before it), or a head that
    does not name the last event (events removed from, or added at, the end). `anchor`: a head hash noted
    earlier (see `manage.py verify_audit --anchor`), which must still be in the chain."""
    problems = []
    previous = None
    count = 0
    anchor_seen = anchor is None
    events = AuditEvent.objects.select_related("free_text").order_by("id").iterator(chunk_size=2000)
    for event in events:
        count += 1
        if event.compute_hash() != event.hash:
            problems.append(
                f"event {event.pk} ({event.action}, {event.at:%Y-%m-%d %H:%M}) was changed after it was written"
            )
        text = getattr(event, "free_text", None)
        if text is not None and AuditText.digest(text.text, text.salt) != event.text_digest:
            problems.append(f"the text of event {event.pk} ({event.action}) was changed after it was written")
        expected_prev = previous.hash if previous is not None else ""
        if event.prev_hash != expected_prev:
            after = f"event {previous.pk}" if previous is not None else "the start"
            problems.append(
                f"event {event.pk} does not follow {after}: an event was deleted or inserted between them"
            )
        if event.hash == anchor:
            anchor_seen = True
        previous = event
    head = AuditChainHead.objects.filter(pk=1).values_list("last_hash", flat=True).first() or ""
    last = previous.hash if previous is not None else ""
    if head != last:
        problems.append(
            "the newest event is not the one the chain head names: events were deleted from "
            "or inserted at the end"
        )
    if not anchor_seen:
        problems.append(
            "the anchor hash is no longer in the chain: the trail was rewritten since it was noted"
        )
    return count, last, problems


def snapshot(instance, fields):
    """{field: value} of `instance` as they are hashed (money, dates and foreign keys as
    text or ids), for an event's before and after. Only facts: free text goes through
    `comment`, or by name alone in `text_changed`."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        value = getattr(instance, field.attname)
        plain = value is None or isinstance(value, bool | int | str | list | dict)
        values[name] = value if plain else str(value)
    return values


def changes(before, after):
    """{"before": ..., "after": ...} of the keys whose values differ (all of `after`
    when there was nothing before); None when nothing changed."""
    if before is None:
        return {"before": None, "after": after}
    changed = sorted(key for key in after if before.get(key) != after[key])
    if not changed:
        return None
    return {"before": {k: before.get(k) for k in changed}, "after": {k: after[k] for k in changed}}
