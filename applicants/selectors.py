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


def possible_duplicates(*, first_name, last_name, date_of_birth, phone="", national_id="", exclude=None):
    """Applicants who may be the same person: same national ID, same normalised phone,
    or the same transliterated name with the same birth date."""
    from .normalise import name_key, normalise_phone

    conditions = Q(name_key=name_key(first_name, last_name), date_of_birth=date_of_birth)
    if national_id:
        conditions |= Q(national_id=national_id.strip())
    phone = normalise_phone(phone) if phone else ""
    if phone:
        conditions |= Q(phone=phone)
    qs = Applicant.objects.filter(conditions).filter(pseudonymised_at__isnull=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    found = []
    key = name_key(first_name, last_name)
    for other in qs.order_by("pk")[:20]:
        reasons = []
        if national_id and other.national_id == national_id.strip():
            reasons.append("same_national_id")
        if phone and other.phone == phone:
            reasons.append("same_phone")
        if other.name_key == key and other.date_of_birth == date_of_birth:
            reasons.append("same_name_and_birth_date")
        found.append((other, reasons))
    return found
