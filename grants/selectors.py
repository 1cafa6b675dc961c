"""Shared reads: permission-filtered querysets, built in the database (never filtered in
Python after loading), with a fixed number of queries per page."""

from django.db.models import Prefetch, Q

from applicants import roles
from applicants.normalise import fold
from applicants.selectors import centre_ids_query

from .models import (
    AuditEvent,
    EquipmentItem,
    GrantApplication,
    GrantApplicationUserObjectPermission,
    Programme,
)
from .workflow import State


def own_application_ids(user):
    return GrantApplicationUserObjectPermission.objects.filter(
        user=user,
        permission__codename="view_grantapplication",
        permission__content_type__app_label="grants",
    ).values("content_object_id")


def applications_for(user):
    """Applications the user may open: staff those of their centres (their role must
    read applications), applicants their own."""
    if not user.is_authenticated:
        return GrantApplication.objects.none()
    if roles.is_staff_member(user):
        if not user.has_perm("grants.view_grantapplication"):
            return GrantApplication.objects.none()
        return GrantApplication.objects.filter(centre_id__in=centre_ids_query(user))
    return GrantApplication.objects.filter(pk__in=own_application_ids(user))


def application_list(user, *, state=None, programme=None, centre=None, q=None, overdue_visits=False):
    qs = applications_for(user)
    if state:
        qs = qs.filter(state__in=[s for s in str(state).split(",") if s])
    if programme:
        qs = qs.filter(programme_id=_int(programme))
    if centre:
        qs = qs.filter(centre_id=_int(centre))
    if q:
        q = str(q)[:100]
        qs = qs.filter(Q(business_name__icontains=q) | Q(applicant__name_key__contains=fold(q)))
    if overdue_visits:
        from django.utils import timezone

        qs = qs.filter(visits__visited_on__isnull=True, visits__due_on__lt=timezone.localdate()).distinct()
    return (
        qs.select_related("programme", "applicant", "centre")
        .prefetch_related(Prefetch("items", queryset=EquipmentItem.objects.order_by("position", "id")))
        .order_by("-created_at", "-id")
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def programmes_for(user):
    """Programmes of the countries where the user applies (applicant) or works (staff)."""
    if not user.is_authenticated:
        return Programme.objects.none()
    if roles.is_staff_member(user):
        from applicants.models import IntegrationCentre

        countries = IntegrationCentre.objects.filter(pk__in=centre_ids_query(user)).values("country_id")
        return Programme.objects.filter(country_id__in=countries).select_related("country")
    return (
        Programme.objects.filter(country__centres__applicants__user=user).select_related("country").distinct()
    )


def history_for(user, application):
    return (
        AuditEvent.objects.filter(application=application).select_related("on_behalf_of").order_by("at", "id")
    )


def approvals_queue(user):
    """Applications in training that a manager could approve now or soon."""
    return application_list(user, state=State.BUSINESS_TRAINING)
