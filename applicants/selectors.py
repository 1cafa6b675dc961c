"""Reads of people and places, filtered by what the user may see, in the database."""

from django.db.models import Q

from . import roles
from .models import (
    Applicant,
    IntegrationCentre,
    IntegrationCentreGroupObjectPermission,
    IntegrationCentreUserObjectPermission,
)

ACCESS_CENTRE = "access_centre"


def centre_ids_query(user):
    """Subquery of the ids of the centres the user works for (user or group grants).

    Two indexed lookups glued by UNION, rather than one OR of IN-subqueries, which
    makes PostgreSQL scan (see issue 3's measurement)."""
    direct = IntegrationCentreUserObjectPermission.objects.filter(
        user=user, permission__codename=ACCESS_CENTRE
    ).values("content_object_id")
    via_group = IntegrationCentreGroupObjectPermission.objects.filter(
        group__user=user, permission__codename=ACCESS_CENTRE
    ).values("content_object_id")
    return direct.union(via_group)


def centre_ids(user):
    """The ids as a set, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_centre_ids_cache", None)
    if cached is None:
        cached = frozenset(
            IntegrationCentreUserObjectPermission.objects.filter(
                user=user, permission__codename=ACCESS_CENTRE
            ).values_list("content_object_id", flat=True)
        ) | frozenset(
            IntegrationCentreGroupObjectPermission.objects.filter(
                group__user=user, permission__codename=ACCESS_CENTRE
            ).values_list("content_object_id", flat=True)
        )
        user._centre_ids_cache = cached
    return cached


def centres_for(user):
    if not user.is_authenticated or not roles.is_staff_member(user):
        return IntegrationCentre.objects.none()
    return IntegrationCentre.objects.filter(pk__in=centre_ids_query(user))


def applicants_for(user):
    """Applicant records the user may open: their own, or those of their centres."""
    if not user.is_authenticated:
        return Applicant.objects.none()
    if roles.has_role(user, roles.FIELD_OFFICER) or roles.has_role(user, roles.PROGRAMME_MANAGER):
        return Applicant.objects.filter(centre_id__in=centre_ids_query(user))
    return Applicant.objects.filter(Q(user=user))


def possible_duplicates(**kwargs):
    """Kept for callers of the first version: see applicants.duplicates."""
    from .duplicates import find_possible_duplicates

    return find_possible_duplicates(**kwargs)
