"""Reads of people and places, filtered by what the user may see, in the database."""

from . import roles
from .models import (
    Applicant,
    ApplicantUserObjectPermission,
    IntegrationCentre,
    IntegrationCentreGroupObjectPermission,
    IntegrationCentreUserObjectPermission,
)

ACCESS_CENTRE = "access_centre"
# Attributes where a user object keeps what it learnt about its permissions for the
# request; `forget_permissions` drops them after the permissions change.
_CACHES = (
    "_centre_ids_cache",
    "_object_permission_checker",
    "_perm_cache",
    "_user_perm_cache",
    "_group_perm_cache",
    "_assigned_applicants_cache",
    "_programme_scope_cache",
)


def centre_ids_query(user):
    """Subquery of the ids of the centres the user works for (user or group grants).

    Two indexed lookups glued by UNION, rather than one OR of IN-subqueries, which
    makes PostgreSQL scan (see issue 3's measurement)."""
    if not user.is_authenticated:
        return IntegrationCentreUserObjectPermission.objects.none().values_list(
            "content_object_id", flat=True
        )
    direct = IntegrationCentreUserObjectPermission.objects.filter(
        user=user, permission__codename=ACCESS_CENTRE
    ).values_list("content_object_id", flat=True)
    via_group = IntegrationCentreGroupObjectPermission.objects.filter(
        group__user=user, permission__codename=ACCESS_CENTRE
    ).values_list("content_object_id", flat=True)
    return direct.union(via_group)


def centre_ids(user):
    """The ids as a set (one query), cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_centre_ids_cache", None)
    if cached is None:
        cached = frozenset(centre_ids_query(user))
        user._centre_ids_cache = cached
    return cached


def forget_permissions(user):
    """Drop what `user` cached about its permissions (after assigning or removing some)."""
    for name in _CACHES:
        if hasattr(user, name):
            delattr(user, name)


def centre_scope(user):
    """What lists filter `centre_id__in` by: the ids of the user's centres themselves,
    read once per request (`centre_ids`). A short list of numbers keeps each query of
    the request simple to plan and to run: with the UNION subquery in its place,
    PostgreSQL spent longer planning every query and read deep pages slower
    (docs/permissions.md, README "Performance")."""
    return sorted(centre_ids(user))


def centres_for(user):
    if not user.is_authenticated or not roles.is_staff_member(user):
        return IntegrationCentre.objects.none()
    cached = getattr(user, "_centre_ids_cache", None)
    return IntegrationCentre.objects.filter(pk__in=centre_ids_query(user) if cached is None else cached)


def remember_centre_ids(user, ids):
    """Tell the request which centres the user works for, read by a caller's own query
    of `centres_for(user)` (so that `centre_ids` and `centre_scope` need not ask)."""
    if user.is_authenticated and roles.is_staff_member(user):
        user._centre_ids_cache = frozenset(ids)


def own_applicant_ids(user):
    """The applicant record(s) the user holds guardian's view permission on: their own."""
    return ApplicantUserObjectPermission.objects.filter(
        user=user, permission__codename="view_applicant", permission__content_type__app_label="applicants"
    ).values("content_object_id")


def applicants_for(user):
    """Applicant records the user may open: those of their centres for the staff whose
    role reads personal records (officers, managers), otherwise only their own."""
    if not user.is_authenticated:
        return Applicant.objects.none()
    if roles.sees_personal_data(user) and user.has_perm("applicants.view_applicant"):
        return Applicant.objects.filter(centre_id__in=centre_scope(user))
    return Applicant.objects.filter(pk__in=own_applicant_ids(user))
