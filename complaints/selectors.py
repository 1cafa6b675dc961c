"""Reads of complaints, filtered by permission in the database, and the register."""

import hmac
from dataclasses import dataclass

from django.db.models import BooleanField, Case, Value, When
from django.utils import timezone

from applicants import roles
from grants.models import GrantApplication

from . import permissions
from .models import Category, Complaint, Status, code_digest, overdue_q

# Counts below this are withheld from those who read no case of that kind (an auditor,
# a manager for the focal point's cases): "1 complaint of abuse, Centre 2" names a person.
MIN_COUNT = 5


def visible_complaints(user):
    visible = permissions.visible_filter(user)
    if visible is None:
        return Complaint.objects.none()
    return Complaint.objects.filter(visible).select_related("centre", "owner", "application")


def followed_up(reference, code):
    """The case a reference and its code name, or None (no hint which of the two is wrong)."""
    complaint = Complaint.objects.filter(reference=(reference or "").strip().upper()).first()
    digest = code_digest(code or "")
    if complaint is None or not hmac.compare_digest(complaint.code_digest, digest):
        return None
    return complaint


def linkable_applications(user):
    """The applications a signed-in applicant may name in a complaint: their own."""
    return GrantApplication.objects.filter(applicant__user=user).order_by("-pk")


@dataclass
class RegisterRow:
    category: str
    label: str
    received: int | None = 0
    open: int | None = 0
    overdue: int | None = 0
    resolved: int | None = 0
    days_to_acknowledge: float | None = None
    days_to_resolve: float | None = None
    counts_only: bool = False
    withheld: bool = False


def _days(pairs):
    spans = [(end - start).total_seconds() / 86400 for start, end in pairs if start and end]
    return round(sum(spans) / len(spans), 1) if spans else None


def complaint_register(user, *, date_from=None, date_to=None, now=None):
    """The complaints register for the dashboard and the donor report: one row per
    category with the cases received (in [date_from, date_to] when given), still open,
    overdue and resolved, and the mean days to acknowledge and to resolve.

    Who reads what: the focal point its cases in full; a programme manager the ordinary
    cases of their centres in full and the focal point's as an organisation-wide count;
    the auditor counts only, organisation-wide. Counts of the rows a reader sees only as
    counts are withheld below MIN_COUNT. One query. Raises nothing: a reader without the
    register permission gets no rows."""
    if not permissions.can_view_register(user).allowed:
        return []
    now = now or timezone.now()
    cases = Complaint.objects.all()
    if date_from:
        cases = cases.filter(received_at__date__gte=date_from)
    if date_to:
        cases = cases.filter(received_at__date__lte=date_to)
    full_ordinary = roles.has_role(user, roles.PROGRAMME_MANAGER) or user.is_superuser
    centres = set(permissions.centre_ids(user)) if not user.is_superuser else None
    focal = permissions.is_focal_point(user)
    rows = {
        value: RegisterRow(category=value, label=str(label), counts_only=True)
        for value, label in Category.choices
    }
    full = set()
    if focal:
        full.add(Category.SAFEGUARDING)
    if full_ordinary:
        full |= set(Category.values) - {Category.SAFEGUARDING}
    if not focal and not full_ordinary and not roles.has_role(user, roles.AUDITOR):
        return []
    timings = {value: ([], []) for value in Category.values}
    fields = ("category", "centre_id", "status", "received_at", "acknowledged_at", "resolved_at")
    late = Case(When(overdue_q(now), then=Value(True)), default=Value(False), output_field=BooleanField())
    for late_now, category, centre_id, status, received, acknowledged, resolved in (
        cases.annotate(late=late).values_list("late", *fields).order_by()
    ):
        if category in full and category != Category.SAFEGUARDING and centres is not None:
            if centre_id not in centres:
                continue
        row = rows[category]
        row.received += 1
        row.open += status != Status.RESOLVED
        row.resolved += status == Status.RESOLVED
        row.overdue += late_now
        timings[category][0].append((received, acknowledged))
        timings[category][1].append((received, resolved))
    result = []
    for value in Category.values:
        row = rows[value]
        if value in full:
            row.counts_only = False
            row.days_to_acknowledge = _days(timings[value][0])
            row.days_to_resolve = _days(timings[value][1])
        elif 0 < row.received < MIN_COUNT:
            row.withheld = True
            row.received = row.open = row.overdue = row.resolved = None
        if focal and not full_ordinary and value != Category.SAFEGUARDING:
            continue
        result.append(row)
    return result


def overdue_complaints(user, now=None):
    return visible_complaints(user).filter(overdue_q(now or timezone.now())).order_by("resolve_by", "pk")


def complaints_data(applicant):
    """The person's ordinary complaints for their data export (privacy.subjects). A case
    of sexual misconduct or abuse of power is left out: whoever runs the export (a
    programme manager) may not read it; the focal point answers for those
    (docs/complaints.md)."""
    return [
        {
            "reference": c.reference,
            "category": c.category,
            "channel": c.channel,
            "status": c.status,
            "centre": c.centre.name if c.centre else None,
            "application": c.application_id,
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "description": c.description,
            "received_at": c.received_at,
            "acknowledged_at": c.acknowledged_at,
            "resolved_at": c.resolved_at,
            "outcome": c.outcome,
            "attachments": [a.original_name for a in c.attachments.all()],
        }
        for c in Complaint.objects.ordinary()
        .filter(applicant=applicant)
        .select_related("centre")
        .prefetch_related("attachments")
        .order_by("id")
    ]
