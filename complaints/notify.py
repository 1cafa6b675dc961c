"""Telling people about complaints, after commit, through the outbox (grants.notify).

`tell_person` is the one call that tells the person who complained; `channel_for` is the
one function that chooses how: a registered person's own channels (SMS or email), else
the email or phone given on the form. A person with no channel reads the same news on the public follow-up page with their reference
and code. Messages never quote the complaint itself: only its reference, its status and
the outcome written for the person."""

import logging

from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from applicants import roles
from applicants.normalise import InvalidPhone, normalise_phone
from assessments.reminders import COUNTRY_LANGUAGES
from grants import sms
from grants.notify import queue, queue_sms

from .models import Category, Complaint

log = logging.getLogger(__name__)
EMAIL, SMS = "email", "sms"
RECEIVED, ACKNOWLEDGED, RESOLVED = "received", "acknowledged", "resolved"


def channel_for(complaint):
    """(channel, address) to reach the person, or (None, ""). A registered person is
    reached the way they chose (their channels: SMS first when they accept it, as many
    read no email); someone without an account by the email, else the phone, they gave."""
    person = complaint.applicant
    email = complaint.email or getattr(getattr(person, "user", None), "email", "") or ""
    if person is not None:
        email = email or person.email
        if person.accepts_sms and person.phone:
            return SMS, person.phone
        if not person.accepts_email:
            return None, ""
    if email:
        return EMAIL, email
    try:
        phone = normalise_phone(complaint.phone)
    except InvalidPhone:
        phone = ""
    return (SMS, phone) if phone else (None, "")


def render_for_person(complaint, kind):
    with translation.override(complaint.language):
        values = {"reference": complaint.reference}
        subject = _("Your complaint %(reference)s") % values
        if kind == RECEIVED:
            lines = [
                _("We have received your complaint %(reference)s and will reply.") % values,
                _("You can follow it with its reference and the code you were given."),
            ]
        elif kind == ACKNOWLEDGED:
            lines = [_("Your complaint %(reference)s is being looked into.") % values]
        else:
            lines = [
                _("Your complaint %(reference)s has been resolved.") % values,
                _("Outcome: %(outcome)s") % {"outcome": complaint.outcome},
            ]
        lines.append(_("This message was sent automatically."))
    return subject, "\n\n".join(lines)


def tell_person(complaint_id, kind):
    """Queue the news `kind` for the person; runs after commit, never raises."""
    try:
        complaint = Complaint.objects.select_related("applicant__user").get(pk=complaint_id)
        channel, address = channel_for(complaint)
        if channel is None:
            return None
        subject, body = render_for_person(complaint, kind)
        if channel == SMS:
            # Short: the first sentence (it names the reference), and the outcome when resolved.
            paragraphs = body.split("\n\n")
            text = " ".join(paragraphs[:2]) if kind == RESOLVED else paragraphs[0]
            return queue_sms(
                key=f"complaint-{kind}:{complaint.pk}",
                recipient=getattr(complaint.applicant, "user", None),
                applicant=complaint.applicant,
                phone=address,
                language=complaint.language,
                text=sms.fit(text),
            )
        return queue(
            key=f"complaint-{kind}:{complaint.pk}",
            recipient=getattr(complaint.applicant, "user", None),
            email=address,
            language=complaint.language,
            subject=subject,
            body=body,
        )
    except Exception:
        log.exception("could not queue the %s message of complaint %s", kind, complaint_id)
        return None


def escalation_recipients(complaint):
    """The programme managers of the case's centre; for the focal point's cases, every
    focal point. Never the person the complaint is about."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if complaint.category == Category.SAFEGUARDING:
        role = roles.SAFEGUARDING_FOCAL_POINT
    else:
        role = roles.PROGRAMME_MANAGER
        users = users.filter(assignments__centre_id=complaint.centre_id)
    users = users.filter(
        groups__permissions__content_type__app_label="applicants",
        groups__permissions__codename=f"role_{role}",
    )
    if complaint.about_user_id:
        users = users.exclude(pk=complaint.about_user_id)
    if complaint.category == Category.STAFF_CONDUCT and complaint.application_id:
        users = users.exclude(pk=complaint.application.assigned_officer_id)
    return list(users.distinct().order_by("pk"))


def tell_escalation(complaint):
    """Queue the escalation to each recipient; returns how many were queued."""
    country = getattr(getattr(complaint.centre, "country", None), "code", "")
    language = COUNTRY_LANGUAGES.get(country, "en")
    queued = 0
    for user in escalation_recipients(complaint):
        with translation.override(language):
            subject = _("Overdue complaint %(reference)s") % {"reference": complaint.reference}
            body = _(
                "Complaint %(reference)s (%(category)s) has passed its deadline without being "
                "acknowledged or resolved. Open it in the complaints list."
            ) % {"reference": complaint.reference, "category": complaint.get_category_display()}
        if queue(
            key=f"complaint-escalated:{complaint.pk}:{user.pk}",
            recipient=user,
            email=user.email,
            language=language,
            subject=subject,
            body=body,
        ):
            queued += 1
    return queued
