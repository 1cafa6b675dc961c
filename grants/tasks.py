"""Background work (Django's tasks framework; `manage.py db_worker` runs it)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.utils import timezone

from .models import Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6


@task()
def send_notification(notification_id):
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.status == Notification.Status.SENT:
        return
    notification.attempts += 1
    try:
        send_mail(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.email],
        )
    except Exception as exc:  # noqa: BLE001 - any transport error is retried later
        notification.last_error = str(exc)[:2000]
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = Notification.Status.FAILED
        notification.save(update_fields=["attempts", "last_error", "status"])
        log.warning("notification %s failed (attempt %s): %s", notification.pk, notification.attempts, exc)
        if notification.status != Notification.Status.FAILED:
            delay = timedelta(minutes=2**notification.attempts)
            try:
                send_notification.using(run_after=timezone.now() + delay).enqueue(notification.pk)
            except Exception:  # noqa: BLE001 - backends without defer: the sweep retries
                log.info("retry of %s left to send_pending_notifications", notification.pk)
        return
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()
    notification.last_error = ""
    notification.save(update_fields=["attempts", "last_error", "status", "sent_at"])
