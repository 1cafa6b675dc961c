"""Webhooks (docs/api.md "Webhooks"): a service account registers an endpoint and is told
of events it may see, after they commit, signed, retried, logged.

An audited write that is an event (EVENTS) queues one delivery per active endpoint
subscribed to it whose account may open the application (grants.selectors.applications_for,
the same rule as every list): a Niš-scoped account is never told of Prizren. The payload
carries ids and states only, never personal data. Each delivery is POSTed with
`Webhook-Id`, `Webhook-Timestamp` and `Webhook-Signature: sha256=<HMAC-SHA256 of
"<timestamp>.<body>" with the endpoint's secret>`; a 2xx answer is success. A failure is
retried with a growing delay (1, 2, 4 ... minutes) up to MAX_ATTEMPTS; an endpoint that
fails WEBHOOK_DISABLE_AFTER deliveries in a row is disabled (audited)."""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.tasks import task
from django.utils import timezone

from audit import trail
from audit.models import AuditEvent
from grants.selectors import applications_for

from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10

EVENTS = {
    "application.transitioned": lambda e: bool(e.from_state and e.to_state and e.from_state != e.to_state),
    "delivery.recorded": lambda e: e.action == "delivery",
    "visit.recorded": lambda e: e.action == "visit_recorded",
    "attendance.recorded": lambda e: e.action == "attendance_recorded",
}


def event_name(audit_event):
    if audit_event.application_id is None:
        return None
    return next((name for name, matches in EVENTS.items() if matches(audit_event)), None)


def payload_of(delivery_id, name, audit_event):
    return {
        "id": str(delivery_id),
        "event": name,
        "occurred_at": audit_event.at,
        "audit_event": audit_event.pk,
        "application": audit_event.application_id,
        "action": audit_event.action,
        "from_state": audit_event.from_state,
        "to_state": audit_event.to_state,
    }


def queue_deliveries(audit_event_id):
    """After the event's transaction committed: one delivery per endpoint that wants it
    and may see it, then a task to send each. Returns the deliveries queued."""
    audit_event = AuditEvent.objects.filter(pk=audit_event_id).first()
    name = audit_event and event_name(audit_event)
    if not name:
        return []
    queued = []
    endpoints = WebhookEndpoint.objects.filter(
        active=True, account__revoked_at__isnull=True, account__expires_at__gt=timezone.now()
    ).select_related("account__user")
    for endpoint in endpoints:
        if name not in endpoint.events:
            continue
        if not applications_for(endpoint.account.user).filter(pk=audit_event.application_id).exists():
            continue
        delivery = WebhookDelivery(endpoint=endpoint, audit_event_id=audit_event.pk, event=name)
        delivery.payload = json.loads(
            json.dumps(payload_of(delivery.pk, name, audit_event), cls=DjangoJSONEncoder)
        )
        try:
            with transaction.atomic():
                delivery.save(force_insert=True)
        except IntegrityError:
            continue  # queued already
        queued.append(delivery)
    for delivery in queued:
        try:
            send_webhook.enqueue(str(delivery.pk))
        except Exception:  # noqa: BLE001 - the sweep sends it
            log.exception("could not queue webhook delivery %s", delivery.pk)
    return queued


def _on_audit_event(sender, instance, created, raw=False, **kwargs):
    if created and not raw and event_name(instance):
        transaction.on_commit(lambda: queue_deliveries(instance.pk))


def connect_signals():
    post_save.connect(_on_audit_event, sender=AuditEvent, dispatch_uid="integrations.webhooks")


def signature(secret, timestamp, body):
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _post(endpoint, delivery):
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    # Only http(s) addresses are registered (integrations.services.check_url).
    request = urllib.request.Request(  # noqa: S310
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "grants-webhooks/1",
            "Webhook-Id": str(delivery.pk),
            "Webhook-Timestamp": timestamp,
            "Webhook-Signature": signature(endpoint.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(error)[:500]


def deliver(delivery_id):
    """Try one delivery once; True when the endpoint took it. Claimed by a conditional
    update, so two workers never send the same delivery at once."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return False
    endpoint = delivery.endpoint
    if not endpoint.active:
        return False
    attempts = delivery.attempts + 1
    if not WebhookDelivery.objects.filter(
        pk=delivery.pk, attempts=delivery.attempts, status="pending"
    ).update(attempts=attempts, next_attempt_at=timezone.now() + timedelta(minutes=2 ** (attempts - 1))):
        return False
    code, error = _post(endpoint, delivery)
    if code is not None and 200 <= code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.SENT, sent_at=timezone.now(), last_status_code=code, last_error=""
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return True
    status = WebhookDelivery.Status.FAILED if attempts >= MAX_ATTEMPTS else WebhookDelivery.Status.PENDING
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, last_status_code=code, last_error=error
    )
    _count_failure(endpoint)
    log.warning(
        "webhook delivery %s to %s failed (attempt %s): %s",
        delivery.pk,
        endpoint.url,
        attempts,
        error or code,
    )
    return False


@transaction.atomic
def _count_failure(endpoint):
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.consecutive_failures += 1
    if endpoint.active and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER:
        endpoint.active, endpoint.disabled_at = False, timezone.now()
        trail.record(
            action="webhook_disabled",
            actor=None,
            data={"endpoint": endpoint.pk, "failures": endpoint.consecutive_failures},
        )
    endpoint.save(update_fields=["consecutive_failures", "active", "disabled_at"])


def send_due(now=None):
    """The sweep (`manage.py send_webhooks`, every minute): every pending delivery whose
    next attempt is due. Returns how many were taken."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, endpoint__active=True
    ).values_list("pk", flat=True)
    return sum(deliver(pk) for pk in list(due[:500]))


@task()
def send_webhook(delivery_id):
    deliver(delivery_id)
