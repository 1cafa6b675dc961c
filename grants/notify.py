"""Telling people: the applicant on every state change, in their language, by each
channel they accept (email, SMS; none is possible).

Called after commit. The message is stored in the outbox (Notification) and a task
sends it; a failed send is retried by the task, never blocking the workflow."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from applicants.services import opt_out_sms
from audit.models import AuditEvent

from . import sms, sms_provider, tasks
from .models import CaseTransfer, Notification

log = logging.getLogger(__name__)

STATE_MESSAGES = {
    "submitted": lambda: _("Your application has been submitted. A field officer will contact you."),
    "draft": lambda: _("Your application was returned for changes. Please read the comment and edit it."),
    "business_training": lambda: _("You have been admitted to the business training."),
    "approved": lambda: _("Your grant has been approved. We will now buy the equipment."),
    "rejected": lambda: _("Your application was not approved."),
    "withdrawn": lambda: _("Your application has been withdrawn."),
    "cancelled": lambda: _("Your approved grant has been cancelled."),
    "equipment_delivered": lambda: _("Your equipment has been delivered. Good luck with your business!"),
    "follow_up": lambda: _("Follow-up visits have been scheduled for your business."),
    "completed": lambda: _("Your grant is completed. Thank you for taking part."),
    "discontinued": lambda: _("Your grant has been closed."),
}


def sms_closing():
    return _("Reply STOP to receive no more SMS.")


def render_state_sms(event, language):
    """The SMS about `event` in `language`, within SMS_MAX_SEGMENTS (grants.sms.fit):
    the email's first sentence and the application's number, without the business name
    or the comment (long, or more than a phone's lock screen should show)."""
    message = STATE_MESSAGES.get(event.to_state)
    if message is None:
        return ""
    with translation.override(language):
        return sms.fit(f"{message()} (#{event.application_id})", closing=sms_closing())


def render_state_change(event, language):
    """(subject, body) of the email about `event`, in `language` (en, sr-latn, sq)."""
    with translation.override(language):
        application = event.application
        subject = _("Your application “%(name)s”: %(state)s") % {
            "name": application.business_name,
            "state": application.get_state_display(),
        }
        lines = [STATE_MESSAGES.get(event.to_state, lambda: "")()]
        if event.action == "approve" and (event.data or {}).get("after"):
            # A reduced approval: the applicant learns what was granted, and why (the comment).
            lines.append(
                _("The grant is %(granted)s %(currency)s of the %(requested)s %(currency)s you asked for.")
                % {
                    "granted": event.data["after"]["total"],
                    "requested": event.data["before"]["total"],
                    "currency": application.programme.currency,
                }
            )
        if event.comment:
            lines.append(_("Comment: %(comment)s") % {"comment": event.comment})
        lines.append(_("This message was sent automatically; for questions, contact your field officer."))
        return subject, "\n\n".join(line for line in lines if line)


def state_changed(event_id):
    """Queue the applicant's email about a transition; runs after commit. Never raises:
    the transition is done whatever happens to its email (the outbox row, once written,
    is retried; a failure before that is logged)."""
    try:
        return _queue_state_change(event_id)
    except Exception:
        log.exception("could not queue the notification of audit event %s", event_id)
        return None


def _queue_state_change(event_id):
    event = AuditEvent.objects.select_related(
        "application__applicant__user", "application__programme", "free_text"
    ).get(pk=event_id)
    applicant = event.application.applicant
    queued = []
    email = applicant.email or getattr(applicant.user, "email", "")
    if applicant.accepts_email and email:
        subject, body = render_state_change(event, applicant.language)
        queued.append(
            queue(
                key=f"state:{event.pk}",
                recipient=applicant.user,
                applicant=applicant,
                email=email,
                language=applicant.language,
                subject=subject,
                body=body,
            )
        )
    if applicant.accepts_sms and applicant.phone and sms_provider.configured():
        text = render_state_sms(event, applicant.language)
        if text:
            queued.append(
                queue_sms(
                    key=f"sms:state:{event.pk}",
                    recipient=applicant.user,
                    applicant=applicant,
                    phone=applicant.phone,
                    language=applicant.language,
                    text=text,
                )
            )
    return [n for n in queued if n is not None]


def queue_sms(*, key, recipient, phone, language, text, applicant=None):
    """An SMS into the outbox: its encoding and parts counted (grants.sms)."""
    parts = sms.split(text)
    return queue(
        key=key,
        recipient=recipient,
        applicant=applicant,
        channel=Notification.Channel.SMS,
        phone=phone,
        email="",
        language=language,
        subject=f"SMS {key}",
        body=text,
        encoding=parts.encoding,
        segments=parts.segments,
    )


def queue(*, key, recipient, email, language, subject, body, applicant=None, **sms_fields):
    """Store once (the key makes it idempotent) and hand to the worker."""

    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key,
                recipient=recipient,
                applicant=applicant,
                email=email,
                language=language,
                subject=subject[:255],
                body=body,
                **sms_fields,
            )
    except IntegrityError:
        return None
    try:
        tasks.send_notification.enqueue(notification.pk)
    except Exception:
        # The outbox row stays pending; `manage.py send_pending_notifications` retries.
        log.exception("could not enqueue notification %s", notification.pk)
    return notification


def record_delivery_reports(reports):
    """The provider's delivery reports (grants.sms_provider.Report) onto their SMS rows:
    status, detail, when, and what the message cost. A late "pending" never overwrites
    a final status. Returns how many rows changed."""
    now = timezone.now()
    changed = 0
    for report in reports:
        if not report.message_id:
            continue
        rows = Notification.objects.filter(
            channel=Notification.Channel.SMS, provider_message_id=report.message_id
        )
        if report.delivery == Notification.Delivery.PENDING:
            rows = rows.exclude(delivery__in=Notification.FINAL_DELIVERY)
        fields = {"delivery": report.delivery, "delivery_detail": report.detail}
        if report.cost is not None:
            fields.update(cost=report.cost, cost_currency=report.currency)
        if report.delivery == Notification.Delivery.DELIVERED:
            fields["delivered_at"] = report.done_at or now
        changed += rows.update(**fields)
    return changed


@transaction.atomic
def sms_stop(*, phone):
    """The person at `phone` replied STOP: their SMS channel is off (audited, in
    applicants.services.opt_out_sms) and SMS still waiting for them are not sent."""
    opted_out = opt_out_sms(phone=phone)
    Notification.objects.filter(
        channel=Notification.Channel.SMS, phone=phone, status=Notification.Status.PENDING
    ).update(status=Notification.Status.FAILED, last_error="The person replied STOP.")
    return opted_out


def render_case_transferred(transfer, language):
    """(subject, body) telling the person that their case moved, in their language."""
    with translation.override(language):
        subject = _("Your case has moved to %(centre)s") % {"centre": transfer.to_centre.name}
        lines = [
            _(
                "From now on %(centre)s looks after your case. Your open applications have moved "
                "with you; a field officer there will contact you."
            )
            % {"centre": transfer.to_centre.name},
            _("This message was sent automatically; for questions, contact your field officer."),
        ]
        return subject, "\n\n".join(lines)


def case_transferred(transfer_id):
    """Queue the person's email about their transfer; runs after commit, never raises."""
    try:
        return _queue_case_transferred(transfer_id)
    except Exception:
        log.exception("could not queue the notification of case transfer %s", transfer_id)
        return None


def _queue_case_transferred(transfer_id):
    transfer = CaseTransfer.objects.select_related("applicant__user", "to_centre").get(pk=transfer_id)
    applicant = transfer.applicant
    email = applicant.email or getattr(applicant.user, "email", "")
    if not email:
        return None
    subject, body = render_case_transferred(transfer, applicant.language)
    return queue(
        key=f"transfer:{transfer.pk}",
        recipient=applicant.user,
        email=email,
        language=applicant.language,
        subject=subject,
        body=body,
    )
