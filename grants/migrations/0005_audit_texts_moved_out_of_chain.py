"""Moves every audit event's comment out of the hash chain into an AuditText beside it,
drops the username of applicants who acted (it may be their name; readers name them
through their account), and recomputes the chain once in the new format (the hash covers
a salted digest of the text, not the text), so that erasure can delete a person's texts
and `verify_audit` still proves the chain.

Rewriting every hash is exactly what the chain exists to detect, so it is done in the
open: the old chain is checked first, and a last event, `audit_chain_migrated`, records
the old head hash, how many events were re-linked and every break the old chain had
(kept, not laundered). Anchors noted before this migration name the old head; compare
them with that event's `old_head` (docs/deploy.md, "Upgrading to texts beside the audit
chain"). The hash formats are copied here, as they were, on purpose: a migration must
not change when the model's code changes."""

import hashlib
import hmac
import json
import secrets

from django.db import migrations
from django.utils import timezone

BATCH = 2000


def _canonical(event, *, text_field, text_value, prev_hash):
    return json.dumps(
        {
            "at": event.at.isoformat(),
            "actor": event.actor_id,
            "actor_username": event.actor_username,
            "on_behalf_of": event.on_behalf_of_id,
            "application": event.application_id,
            "applicant": event.applicant_id,
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            text_field: text_value,
            "data": event.data,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _batches(AuditEvent):
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        yield from batch
        last = batch[-1].pk


def _old_chain_problems(AuditEvent, AuditChainHead):
    problems, previous, count = [], "", 0
    for event in _batches(AuditEvent):
        count += 1
        own = _canonical(event, text_field="comment", text_value=event.comment, prev_hash=event.prev_hash)
        if _sha(own) != event.hash:
            problems.append(f"event {event.pk} ({event.action}) did not match its hash")
        if event.prev_hash != previous:
            problems.append(f"event {event.pk} did not follow the event before it")
        previous = event.hash
    head = AuditChainHead.objects.filter(pk=1).values_list("last_hash", flat=True).first() or ""
    if head != previous:
        problems.append("the chain head did not name the newest event")
    return count, previous, problems


def move_texts_and_rechain(apps, schema_editor):
    AuditEvent = apps.get_model("grants", "AuditEvent")
    AuditText = apps.get_model("grants", "AuditText")
    AuditChainHead = apps.get_model("grants", "AuditChainHead")
    Applicant = apps.get_model("applicants", "Applicant")
    count, old_head, problems = _old_chain_problems(AuditEvent, AuditChainHead)
    if not count:
        return
    applicant_accounts = set(Applicant.objects.exclude(user=None).values_list("user_id", flat=True))
    previous = ""
    for event in _batches(AuditEvent):
        if event.actor_id in applicant_accounts:
            event.actor_username = ""
        digest = ""
        if event.comment:
            salt = secrets.token_hex(32)
            AuditText.objects.create(event_id=event.pk, text=event.comment, salt=salt)
            digest = hmac.new(bytes.fromhex(salt), event.comment.encode(), hashlib.sha256).hexdigest()
        new_hash = _sha(_canonical(event, text_field="text_digest", text_value=digest, prev_hash=previous))
        AuditEvent.objects.filter(pk=event.pk).update(
            actor_username=event.actor_username, comment="", text_digest=digest, prev_hash=previous, hash=new_hash
        )
        previous = new_hash
    marker = AuditEvent(
        at=timezone.now(),
        action="audit_chain_migrated",
        data={"old_head": old_head, "events": count, "old_chain_problems": problems},
        prev_hash=previous,
    )
    marker.hash = _sha(_canonical(marker, text_field="text_digest", text_value="", prev_hash=previous))
    marker.save()
    AuditChainHead.objects.update_or_create(pk=1, defaults={"last_hash": marker.hash})


def refuse_with_events(apps, schema_editor):
    if apps.get_model("grants", "AuditEvent").objects.exists():
        raise RuntimeError(
            "The audit chain was re-linked in the new format; it cannot be turned back. "
            "Restore the backup taken before the upgrade instead."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0003_role_permissions_by_design"),
        ("grants", "0004_audit_text_beside_chain"),
    ]

    operations = [
        migrations.RunPython(move_texts_and_rechain, refuse_with_events),
    ]
