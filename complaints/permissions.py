"""Who reads and handles which complaint: one Python check per verb and, beside it, the
SQL the lists filter by (`visible_filter`), tested to agree (tests/test_complaints.py).

- A complaint of sexual misconduct or abuse of power (`Category.SAFEGUARDING`) is read
  and handled by the safeguarding focal point only: not by the centre's staff, managers,
  auditors or superusers without the role.
- An ordinary complaint is read by the field officers and programme managers of its
  centre and handled (acknowledged, annotated, resolved) by those managers.
- Nobody reads a complaint about themselves: the staff member it names, and for a
  complaint about staff conduct on an application, the application's assigned officer.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from applicants import roles
from applicants.selectors import centre_ids
from core.decisions import ALLOWED, NOT_VISIBLE, Decision

from .models import Category


def is_focal_point(user):
    """Members of the focal point's group only: a superuser holds every permission, so
    `has_role` alone would show them these cases (their groups are asked, once per
    request; anyone else's answer comes from the permissions already read)."""
    if not user.is_authenticated:
        return False
    if not user.is_superuser:
        return roles.has_role(user, roles.SAFEGUARDING_FOCAL_POINT)
    cached = getattr(user, "_focal_point_cache", None)
    if cached is None:
        cached = user.groups.filter(
            permissions__content_type__app_label="applicants",
            permissions__codename=f"role_{roles.SAFEGUARDING_FOCAL_POINT}",
        ).exists()
        user._focal_point_cache = cached
    return cached


def reads_ordinary(user):
    return (
        user.is_authenticated
        and (roles.has_role(user, roles.FIELD_OFFICER) or roles.has_role(user, roles.PROGRAMME_MANAGER))
        and user.has_perm("complaints.view_complaint")
    )


def visible_filter(user):
    """The complaints `user` may read, as a Q (None: none at all)."""
    parts = []
    if is_focal_point(user):
        parts.append(Q(category=Category.SAFEGUARDING))
    if reads_ordinary(user):
        parts.append(~Q(category=Category.SAFEGUARDING) & Q(centre_id__in=sorted(centre_ids(user))))
    if not parts:
        return None
    visible = parts[0]
    for part in parts[1:]:
        visible |= part
    about_them = Q(about_user_id=user.pk) | Q(
        category=Category.STAFF_CONDUCT, application__assigned_officer_id=user.pk
    )
    return visible & ~about_them


def is_about(user, complaint):
    if complaint.about_user_id == user.pk:
        return True
    return (
        complaint.category == Category.STAFF_CONDUCT
        and complaint.application_id is not None
        and complaint.application.assigned_officer_id == user.pk
    )


def can_view(user, complaint):
    if not user.is_authenticated or is_about(user, complaint):
        return NOT_VISIBLE
    if complaint.is_safeguarding:
        return ALLOWED if is_focal_point(user) else NOT_VISIBLE
    if reads_ordinary(user) and complaint.centre_id in centre_ids(user):
        return ALLOWED
    return NOT_VISIBLE


def can_handle(user, complaint):
    """Acknowledge, add a note, resolve."""
    decision = can_view(user, complaint)
    if not decision.allowed:
        return decision
    if complaint.is_safeguarding or roles.has_role(user, roles.PROGRAMME_MANAGER):
        if user.has_perm("complaints.handle_complaint"):
            return ALLOWED
    return Decision(False, _("Only the centre's programme managers answer complaints."))


def can_record(user):
    """Staff who write down a complaint made by phone, in a visit or by letter."""
    if any(
        roles.has_role(user, role)
        for role in (roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER, roles.SAFEGUARDING_FOCAL_POINT)
    ):
        return ALLOWED
    return Decision(False, _("This page is not available to your role."))


def can_view_register(user):
    if user.is_authenticated and user.has_perm("complaints.view_complaint_register"):
        return ALLOWED
    return Decision(False, _("This page is not available to your role."))


def can_list(user):
    if is_focal_point(user) or reads_ordinary(user):
        return ALLOWED
    return Decision(False, _("This page is not available to your role."))
