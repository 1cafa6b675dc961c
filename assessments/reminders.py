"""Reminders to field officers: monitoring visits due within a week, and overdue ones.

Each visit gets at most one "due" and one "overdue" reminder per officer and due date,
however often the job runs (`manage.py send_reminders`, or the `send_reminders` task):
the outbox key names the visit, its due date, the kind and the officer, and the outbox
refuses a second row with the same key. A visit first seen already overdue gets only the
overdue reminder.
"""

import datetime

from django.contrib.auth import get_user_model
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from applicants import roles
from grants import sms, sms_provider
from grants.models import Notification
from grants.notify import queue, queue_sms
from grants.workflow import State

from .models import MonitoringVisit

DUE_WITHIN_DAYS = 7
DUE = "due"
OVERDUE = "overdue"
# Staff have no language setting of their own: reminders speak the language of the
# centre's country, English elsewhere.
COUNTRY_LANGUAGES = {"RS": "sr-latn", "BA": "sr-latn", "ME": "sr-latn", "XK": "sq", "AL": "sq"}


def reminder_key(visit, kind, officer):
    return f"visit-{kind}:{visit.pk}:{visit.due_on.isoformat()}:{officer.pk}"


class Recipients:
    """Who is reminded of a visit: the assigned field officer while they work at the
    centre; otherwise every field officer of the centre, so that no visit goes
    unnoticed. One query per centre, whatever the number of visits."""

    def __init__(self):
        self.by_centre = {}

    def _centre_officers(self, centre_id):
        if centre_id not in self.by_centre:
            self.by_centre[centre_id] = list(
                get_user_model()
                .objects.filter(
                    assignments__centre_id=centre_id,
                    is_active=True,
                    groups__permissions__content_type__app_label="applicants",
                    groups__permissions__codename=f"role_{roles.FIELD_OFFICER}",
                )
                .exclude(email="")
                .select_related("staff_profile")
                .distinct()
                .order_by("pk")
            )
        return self.by_centre[centre_id]

    def __call__(self, visit):
        application = visit.application
        officers = self._centre_officers(application.centre_id)
        assigned = [o for o in officers if o.pk == application.assigned_officer_id]
        return assigned or officers


def render_visit_reminder(visit, kind, language):
    application = visit.application
    with translation.override(language):
        values = {
            "months": visit.months,
            "business": application.business_name,
            "person": application.applicant.full_name,
            "number": application.pk,
            "date": formats.date_format(visit.due_on, "DATE_FORMAT"),
        }
        if kind == OVERDUE:
            subject = _("Overdue monitoring visit: %(business)s (due %(date)s)") % values
            first = ngettext(
                "The %(months)s-month monitoring visit of “%(business)s” (%(person)s, application "
                "#%(number)s) was due on %(date)s and has not been recorded.",
                "The %(months)s-month monitoring visit of “%(business)s” (%(person)s, application "
                "#%(number)s) was due on %(date)s and has not been recorded.",
                visit.months,
            )
        else:
            subject = _("Monitoring visit due %(date)s: %(business)s") % values
            first = ngettext(
                "The %(months)s-month monitoring visit of “%(business)s” (%(person)s, application "
                "#%(number)s) is due on %(date)s.",
                "The %(months)s-month monitoring visit of “%(business)s” (%(person)s, application "
                "#%(number)s) is due on %(date)s.",
                visit.months,
            )
        body = "\n\n".join(
            [
                first % values,
                _(
                    "After the visit, record whether the business operates, whether the equipment is "
                    "in use, the monthly revenue and the jobs."
                ),
            ]
        )
    return subject, body


def render_visit_sms(visit, kind, language):
    """The SMS form of a reminder: the application's number and the date, no name."""
    with translation.override(language):
        values = {
            "number": visit.application_id,
            "date": formats.date_format(visit.due_on, "SHORT_DATE_FORMAT"),
        }
        if kind == OVERDUE:
            text = _("The monitoring visit of application #%(number)s was due on %(date)s.") % values
        else:
            text = _("The monitoring visit of application #%(number)s is due on %(date)s.") % values
        return sms.fit(text)


def _sms_phone(officer):
    """The officer's mobile number if they asked for reminders by SMS (staff profile)."""
    profile = getattr(officer, "staff_profile", None)
    if profile is None or not profile.sms_reminders or not profile.phone:
        return ""
    return profile.phone


def send_visit_reminders(*, today=None):
    """Queue the reminders not yet queued; returns how many were queued now."""
    today = today or timezone.localdate()
    visits = list(
        MonitoringVisit.objects.filter(
            visited_on__isnull=True,
            closed_on__isnull=True,
            application__state=State.FOLLOW_UP,
            due_on__lte=today + datetime.timedelta(days=DUE_WITHIN_DAYS),
        )
        .select_related(
            "application__applicant", "application__assigned_officer", "application__centre__country"
        )
        .order_by("due_on", "id")
    )
    recipients = Recipients()
    planned = []
    for visit in visits:
        kind = OVERDUE if visit.due_on < today else DUE
        for officer in recipients(visit):
            planned.append((reminder_key(visit, kind, officer), visit, kind, officer))
    already = set(Notification.objects.filter(key__in=[p[0] for p in planned]).values_list("key", flat=True))
    queued = 0
    for key, visit, kind, officer in planned:
        if key in already:
            continue
        language = COUNTRY_LANGUAGES.get(visit.application.centre.country.code, "en")
        subject, body = render_visit_reminder(visit, kind, language)
        if queue(
            key=key, recipient=officer, email=officer.email, language=language, subject=subject, body=body
        ):
            queued += 1
            phone = _sms_phone(officer)
            if phone and sms_provider.configured():
                queue_sms(
                    key=f"sms:{key}",
                    recipient=officer,
                    phone=phone,
                    language=language,
                    text=render_visit_sms(visit, kind, language),
                )
    return queued
