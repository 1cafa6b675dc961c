"""Background work (Django's tasks framework; `manage.py db_worker` runs it).

Sending an outbox row: claimed by a conditional update, so two workers never send the
same message; a failure is retried later with a growing delay (2, 4, 8 ... minutes) on
backends that can defer, and by the sweep (`manage.py send_pending_notifications`,
`retry_pending_notifications`) everywhere, until MAX_ATTEMPTS.

An SMS is sent with our own message id (`provider_message_id`, `grants-<row>-<random>`,
stored before the first attempt). A retry first asks the provider for that id: when an
earlier attempt reached it although its answer was lost (a timeout, a 5xx), the row is
marked sent and nothing goes out again. A refusal that retrying cannot change (a bad number, bad credentials)
fails the row at once."""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.utils import timezone

from . import sms_provider
from .models import Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6


def deliver(notification_id):
    """Try to send one notification once. True when sent now."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.status != Notification.Status.PENDING:
        return False
    attempts = notification.attempts + 1
    claimed = Notification.objects.filter(
        pk=notification.pk, status=Notification.Status.PENDING, attempts=notification.attempts
    ).update(attempts=attempts)
    if not claimed:
        return False
    extra = {}
    try:
        if notification.channel == Notification.Channel.SMS:
            extra = _send_sms(notification, attempts)
        else:
            send_mail(
                notification.subject, notification.body, settings.DEFAULT_FROM_EMAIL, [notification.email]
            )
    except Exception as exc:  # noqa: BLE001 - any transport error is retried later
        permanent = getattr(exc, "permanent", False)
        status = (
            Notification.Status.FAILED
            if permanent or attempts >= MAX_ATTEMPTS
            else Notification.Status.PENDING
        )
        Notification.objects.filter(pk=notification.pk).update(last_error=str(exc)[:2000], status=status)
        log.warning("notification %s failed (attempt %s): %s", notification.pk, attempts, exc)
        if status == Notification.Status.PENDING:
            _retry_later(notification.pk, attempts)
        return False
    delivery = extra.pop("delivery", "")
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error="", **extra
    )
    if delivery:
        # (a delivery report may have come in already: it is not undone)
        Notification.objects.filter(pk=notification.pk).exclude(
            delivery__in=Notification.FINAL_DELIVERY
        ).update(delivery=delivery)
    return True


def sms_message_id(notification):
    """Ours, unique across deployments sharing one provider account (a staging copy's
    row 5 is not production's row 5), fixed before the first attempt."""
    return f"grants-{notification.pk}-{secrets.token_hex(6)}"


def _send_sms(notification, attempts):
    """Send one SMS row (claimed by the caller); the fields to store with "sent"."""
    if not sms_provider.configured():
        raise sms_provider.ProviderError("SMS is not configured (SMS_BASE_URL, SMS_API_KEY)")
    provider = sms_provider.provider()
    message_id = notification.provider_message_id or sms_message_id(notification)
    if not notification.provider_message_id:
        Notification.objects.filter(pk=notification.pk).update(provider_message_id=message_id)
    if attempts > 1:
        known = provider.lookup(message_id)
        if known is not None:
            log.info("SMS %s had reached the provider already; not sent again", notification.pk)
            return {"delivery": known.delivery, "cost": known.cost, "cost_currency": known.currency}
    provider_id = provider.send(to=notification.phone, text=notification.body, message_id=message_id)
    return {"provider_message_id": provider_id, "delivery": Notification.Delivery.PENDING}


def _retry_later(notification_id, attempts):
    if not send_notification.get_backend().supports_defer:
        return  # the sweep retries
    run_after = timezone.now() + timedelta(minutes=2**attempts)
    try:
        send_notification.using(run_after=run_after).enqueue(notification_id)
    except Exception:  # noqa: BLE001 - the sweep retries
        log.exception("could not schedule the retry of notification %s", notification_id)


def send_pending(*, older_than=timedelta(minutes=5)):
    """The sweep: try every pending notification created more than `older_than` ago
    (younger ones are still with their first task). Returns how many were sent."""
    cutoff = timezone.now() - older_than
    ids = list(
        Notification.objects.filter(status=Notification.Status.PENDING, created_at__lte=cutoff)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )
    return sum(1 for pk in ids if deliver(pk))


@task()
def send_notification(notification_id):
    deliver(notification_id)


@task()
def retry_pending_notifications():
    return send_pending()
