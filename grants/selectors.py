"""Shared reads: permission-filtered querysets, built in the database (never filtered in
Python after loading), with a fixed number of queries per page."""

import datetime
from collections import defaultdict
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from applicants import roles
from applicants.models import IntegrationCentre, StaffAssignment
from applicants.normalise import fold
from applicants.selectors import centre_scope, centres_for, remember_centre_ids
from audit.models import AuditEvent
from core.money import cents

from . import workflow
from .models import (
    CaseTransfer,
    Commitment,
    Delivery,
    DeliveryLine,
    EquipmentItem,
    GrantApplication,
    GrantApplicationUserObjectPermission,
    Notification,
    Programme,
    ProgrammeScope,
)
from .workflow import State


def own_application_ids(user):
    return GrantApplicationUserObjectPermission.objects.filter(
        user=user,
        permission__codename="view_grantapplication",
        permission__content_type__app_label="grants",
    ).values("content_object_id")


# Roles a superuser may narrow to programmes or donors (ProgrammeScope).
SCOPED_ROLES = (roles.PROGRAMME_MANAGER, roles.AUDITOR, roles.MNE_OFFICER)


def may_be_scoped(user):
    return (
        user.is_authenticated and not user.is_superuser and any(roles.has_role(user, r) for r in SCOPED_ROLES)
    )


def scoped_programmes(user):
    """Subquery: the ids of the programmes the user's scope rows name, by id, by their
    regional programme or by donor."""
    scopes = ProgrammeScope.objects.filter(user_id=user.pk)
    return Programme.objects.filter(
        Q(pk__in=scopes.filter(programme__isnull=False).values("programme_id"))
        | Q(
            regional_programme__in=scopes.filter(regional_programme__isnull=False).values(
                "regional_programme_id"
            )
        )
        | Q(donor__in=scopes.exclude(donor="").values("donor"))
    ).values("pk")


def programme_scope_q(user, field="programme"):
    """The condition a list adds for a user narrowed to programmes or donors: no scope
    row at all, or `field` one of the scope's programmes. In the list's own query (no
    query of its own); Q() for the roles that are never scoped."""
    if not may_be_scoped(user):
        return Q()
    return Q(~Exists(ProgrammeScope.objects.filter(user_id=user.pk))) | Q(
        **{f"{field}__in": scoped_programmes(user)}
    )


def programme_scope_ids(user):
    """The programme ids a scoped user may read, or None (not scoped): for the checks of
    one object. Read once per request and kept on the user object."""
    if not may_be_scoped(user):
        return None
    if not hasattr(user, "_programme_scope_cache"):
        if ProgrammeScope.objects.filter(user_id=user.pk).exists():
            user._programme_scope_cache = frozenset(
                Programme.objects.filter(pk__in=scoped_programmes(user)).values_list("pk", flat=True)
            )
        else:
            user._programme_scope_cache = None
    return user._programme_scope_cache


def in_programme_scope(user, application):
    """Whether `application` is of a programme the user may read. One loaded through
    `applications_for` says so itself (`read_in_scope`), without a query."""
    if getattr(application, "read_in_scope", False):
        return True
    ids = programme_scope_ids(user)
    return ids is None or application.programme_id in ids


def applications_for(user):
    """Applications the user may open: staff those of their centres (their role must
    read applications) and, for a user narrowed to programmes or donors, of those
    programmes; applicants their own."""
    if not user.is_authenticated:
        return GrantApplication.objects.none()
    if roles.is_staff_member(user):
        if not user.has_perm("grants.view_grantapplication"):
            return GrantApplication.objects.none()
        applications = GrantApplication.objects.filter(centre_id__in=centre_scope(user))
        if may_be_scoped(user):
            # (the rows answer `in_programme_scope` themselves: no query per page for it)
            applications = applications.filter(programme_scope_q(user)).annotate(read_in_scope=Value(True))
        return applications
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
        by_business = Q(business_name__icontains=q)
        # Roles that do not read names (finance) cannot search by them either: a search
        # by name would answer "is this person one of our grants?".
        qs = qs.filter(
            by_business | Q(applicant__name_key__contains=fold(q)) if roles.sees_names(user) else by_business
        )
    if overdue_visits:
        # A visit is overdue only while the grant is followed up: a discontinued grant's
        # visits left unmade are not owed any more.
        qs = qs.filter(
            state=State.FOLLOW_UP,
            visits__visited_on__isnull=True,
            visits__closed_on__isnull=True,
            visits__due_on__lt=timezone.localdate(),
        ).distinct()
    return qs.order_by("-created_at", "-id")


def applications_with_items(user, **filters):
    """`application_list` with what the API's list shows of each row: its programme,
    applicant, centre and equipment items."""
    return (
        application_list(user, **filters)
        .select_related("programme", "applicant", "centre")
        .prefetch_related(Prefetch("items", queryset=EquipmentItem.objects.order_by("position", "id")))
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
        countries = IntegrationCentre.objects.filter(pk__in=centre_scope(user)).values("country_id")
        return Programme.objects.filter(
            programme_scope_q(user, "pk"), country_id__in=countries
        ).select_related("country")
    return (
        Programme.objects.filter(country__centres__applicants__user=user).select_related("country").distinct()
    )


class FilterChoices(NamedTuple):
    centres: list  # (id, name), by name
    programmes: list  # (id, name), by name
    currencies: dict  # programme id: currency


def filter_choices(user):
    """The centres and programmes a staff member's lists can be filtered by (and each
    programme's currency), in one query: the user's centres, each joined with its
    country's programmes (a LEFT JOIN, so a centre without programmes still counts).
    The request then knows the user's centre ids (applicants.selectors.centre_scope)."""

    # Finance and the auditor choose by public labels (docs/permissions.md).
    public = roles.uses_public_labels(user)
    # (whether each programme is in a scoped user's scope: in the same query)
    scope_q = programme_scope_q(user, "country__programmes")
    in_scope = ExpressionWrapper(scope_q, BooleanField()) if scope_q else Value(True)
    rows = (
        centres_for(user)
        .annotate(in_scope=in_scope)
        .values_list(
            "pk",
            "public_name" if public else "name",
            "country__programmes__pk",
            "country__programmes__public_name" if public else "country__programmes__name",
            "country__programmes__currency",
            "in_scope",
        )
    )
    centres, programmes, currencies = {}, {}, {}
    for centre_id, centre_name, programme_id, programme_name, currency, scoped_in in rows:
        centres[centre_id] = centre_name or str(IntegrationCentre(pk=centre_id).public_label)
        if programme_id is not None and scoped_in:
            programmes[programme_id] = programme_name or str(Programme(pk=programme_id).public_label)
            currencies[programme_id] = currency
    remember_centre_ids(user, centres)
    by_name = lambda pair: (pair[1], pair[0])  # noqa: E731
    return FilterChoices(
        sorted(centres.items(), key=by_name), sorted(programmes.items(), key=by_name), currencies
    )


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_trail(user, *, application=None, action="", actor="", date_from=None, date_to=None):
    """The trail the user may read (`audit_events_for`), newest first, filtered as the
    audit API and the audit trail page filter it: by application id, action, the acting
    staff member's username (`actor_username`, which the chain keeps for staff only: an
    applicant's account cannot be looked for) and the period [date_from, date_to] in
    local days. With what each row shows loaded (`audit_actor`, the API's serializers)."""
    events = audit_events_for(user).select_related("actor", "applicant", "on_behalf_of", "free_text")
    if application is not None:
        events = events.filter(application_id=application)
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_username=actor)
    if date_from is not None:
        events = events.filter(at__gte=_start_of(date_from))
    if date_to is not None:
        events = events.filter(at__lt=_start_of(date_to + datetime.timedelta(days=1)))
    return events.order_by("-at", "-id")


# Who acted, for the readers of the trail without personal data (the auditor).
APPLICANT_ACTOR = "the applicant"


def audit_actor(event, applicant_label=APPLICANT_ACTOR):
    """Staff by the username the chain keeps; anyone else who acted (an applicant, a
    cooperative member: their username may be their name) as `applicant_label`; "" for
    the system."""
    if event.actor_username:
        return event.actor_username
    return applicant_label if event.actor_id is not None else ""


def history_for(user, application):
    return (
        AuditEvent.objects.filter(application=application)
        .select_related("actor", "on_behalf_of", "free_text")
        .order_by("at", "id")
    )


def committed_by_programme():
    """{programme id: committed amount}, grants.ledger's definition, in two grouped queries."""
    totals = defaultdict(lambda: cents(0))
    for pk, total in (
        Commitment.objects.still_open()
        .order_by()
        .values("programme")
        .annotate(total=Sum("amount"))
        .values_list("programme", "total")
    ):
        totals[pk] += cents(total)
    programme = "delivery__application__programme"
    for pk, total in (
        DeliveryLine.objects.at_cost()
        .order_by()
        .values(programme)
        .annotate(total=Sum("amount"))
        .values_list(programme, "total")
    ):
        totals[pk] += cents(total)
    return dict(totals)


def awaiting_delivery(user):
    """Approved grants of the user's centres, with how much is still to hand over and
    whether the signed handover protocol is on file."""

    delivered = (
        DeliveryLine.objects.filter(item__application=OuterRef("pk"))
        .order_by()
        .values("item__application")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    ordered = (
        EquipmentItem.objects.filter(application=OuterRef("pk"))
        .order_by()
        .values("application")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    deliveries = Delivery.objects.filter(application=OuterRef("pk"))
    return (
        applications_for(user)
        .filter(state=State.APPROVED)
        .annotate(
            quantity_ordered=Coalesce(Subquery(ordered, output_field=IntegerField()), Value(0)),
            quantity_delivered=Coalesce(Subquery(delivered, output_field=IntegerField()), Value(0)),
            # Every delivery so far covered by a protocol uploaded after it (the rule).
            has_protocol=Exists(deliveries) & ~Exists(deliveries.without_protocol()),
        )
        .select_related("programme", "centre")
        .order_by("approved_at", "id")
    )


def has_handover_protocol(application):
    """Whether every delivery of the grant so far is covered by a signed handover
    protocol uploaded after it (the workflow's rule)."""
    return workflow.HANDOVER_PROTOCOL(application)


def deliveries_for(user):
    """Deliveries of the applications the user may open, newest first, with their totals
    in the programme's currency and in EUR and whether a signed handover protocol
    (uploaded after it) covers each."""

    money = DecimalField(max_digits=14, decimal_places=2)
    uncovered = Delivery.objects.filter(pk=OuterRef("pk")).without_protocol()
    return (
        Delivery.objects.filter(application__in=applications_for(user))
        .annotate(
            total=Sum("lines__amount", output_field=money),
            total_eur=Sum("lines__amount_eur", output_field=money),
            has_protocol=~Exists(uncovered),
        )
        .select_related("application__programme")
        .order_by("-delivered_on", "-id")
    )


def commitments_for(user):
    """The commitments ledger: every commitment of the applications the user may open,
    newest first, with what has been delivered to that grant so far."""

    money = DecimalField(max_digits=14, decimal_places=2)
    delivered = (
        DeliveryLine.objects.filter(delivery__application=OuterRef("application_id"))
        .order_by()
        .values("delivery__application")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        Commitment.objects.filter(application__in=applications_for(user))
        .annotate(delivered=Subquery(delivered, output_field=money))
        .select_related("application__programme", "created_by", "released_by")
        .order_by("-created_at", "-id")
    )


def field_officers_of(centre_id):
    """Field officers who work at the centre: whom a manager may give its work to."""

    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            pk__in=StaffAssignment.objects.filter(centre_id=centre_id).values("user_id"),
            groups__permissions__codename=f"role_{roles.FIELD_OFFICER}",
            groups__permissions__content_type__app_label="applicants",
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def audit_events_for(user):
    """The audit trail the user may read: the events of the applications and applicants
    of their centres (superusers: all), for the roles that read it (grants.view_auditevent:
    officers, managers, the auditor). Events of no one's record (a staff assignment) are
    for superusers only."""
    if not user.is_authenticated:
        return AuditEvent.objects.none()
    if user.is_superuser:
        return AuditEvent.objects.all()
    if not (roles.is_staff_member(user) and user.has_perm("grants.view_auditevent")):
        return AuditEvent.objects.none()
    centres = centre_scope(user)
    # A user narrowed to programmes reads the events of those programmes' applications.
    unscoped = Q()
    if may_be_scoped(user):
        unscoped = Q(~Exists(ProgrammeScope.objects.filter(user_id=user.pk)))
    return AuditEvent.objects.filter(
        Q(
            programme_scope_q(user, "application__programme"),
            application__isnull=False,
            application__centre_id__in=centres,
        )
        | Q(unscoped, application__isnull=True, applicant__centre_id__in=centres)
    )


def undisposed_lines(application):
    """The items delivered to a grant whose outcome is not recorded (what discontinue
    asks about), with their item and delivery."""
    return (
        DeliveryLine.objects.filter(delivery__application=application, outcome="")
        .select_related("item", "delivery")
        .order_by("delivery__delivered_on", "delivery_id", "id")
    )


def reallocation_targets(user, application, limit=200):
    """Items still due of the other approved grants of the programme that the user may
    open: where equipment of a closed business can go (one query)."""
    return (
        EquipmentItem.objects.filter(
            application__in=applications_for(user),
            application__programme_id=application.programme_id,
            application__state=State.APPROVED,
        )
        .exclude(application=application)
        .with_delivered()
        .filter(delivered__lt=Coalesce("approved_quantity", "quantity"))
        .select_related("application")
        .order_by("application_id", "position", "id")[:limit]
    )


def asset_register(user):
    """Every delivered item of the grants the user may open, newest delivery first: the
    asset register (serial number, asset tag, value, ownership, outcome, reallocation)."""
    return (
        DeliveryLine.objects.filter(delivery__application__in=applications_for(user))
        .select_related(
            "item",
            "delivery__application__programme",
            "reallocated_from__delivery",
            "reallocated_to__delivery",
        )
        .order_by("-delivery__delivered_on", "-delivery_id", "-id")
    )


def sms_to(applicant, *, limit=20):
    """The latest SMS to a person, newest first: one query, however many there are."""
    return list(
        Notification.objects.filter(applicant=applicant, channel=Notification.Channel.SMS).order_by(
            "-created_at", "-id"
        )[:limit]
    )


def transfers_for(user):
    """Transfers of a case from or to the user's centres, for the staff who read
    personal records there (officers, managers), newest first."""
    if not user.is_authenticated:
        return CaseTransfer.objects.none()
    if user.is_superuser:
        transfers = CaseTransfer.objects.all()
    elif not roles.sees_personal_data(user):
        return CaseTransfer.objects.none()
    else:
        centres = centre_scope(user)
        transfers = CaseTransfer.objects.filter(Q(from_centre_id__in=centres) | Q(to_centre_id__in=centres))
    return transfers.select_related("from_centre", "to_centre").order_by("-requested_at", "-id")
