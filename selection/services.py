"""Writes of the selection: naming a committee, declarations, scores, approving the
ranked list, and offering freed money to the reserve list. Each runs in one
transaction, checks the permission first and writes an audit event."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applicants import roles
from audit import trail
from core.errors import Conflict, NotAllowed, NotVisible, RuleNotMet, ServiceError, checked_text, require
from grants import services as grant_services
from grants import transitions
from grants.models import Call, GrantApplication
from grants.workflow import State

from . import permissions, selectors
from .models import Committee, CommitteeMember, Declaration, ReserveOffer, Scoring, ScoringLine

TWO_PLACES = Decimal("0.01")


def _locked_call(call):
    # The call's row only: an approval then locks the application and the programme in
    # the order every transition does (grants.services.take_transition).
    return Call.objects.select_for_update(of=("self",)).select_related("programme").get(pk=call.pk)


@transaction.atomic
def set_committee(*, call, chair, members, by):
    """Name the call's committee: its chair (a member too) and members (staff or
    external `committee_member` accounts). Members who scored or declared stay."""
    call = _locked_call(call)
    require(permissions.can_manage_committee(by, call))
    people = {user.pk: user for user in [chair, *members]}
    for user in people.values():
        if not user.is_active or not roles.is_staff_member(user):
            raise ServiceError(
                _("Committee members are staff or committee members with an account."),
                details={"members": [_("Choose staff or committee members.")]},
            )
    committee = Committee.objects.filter(call=call).first()
    before = None
    if committee is None:
        committee = Committee.objects.create(call=call, chair=chair)
    else:
        before = {
            "chair": committee.chair_id,
            "members": sorted(committee.members.values_list("user_id", flat=True)),
        }
        committee.chair = chair
        committee.save(update_fields=["chair"])
    keep = set(people)
    gone = committee.members.exclude(user_id__in=keep)
    if gone.filter(scorings__isnull=False).exists() or gone.filter(declarations__isnull=False).exists():
        raise Conflict(_("A member who has declared or scored stays on the committee."))
    gone.delete()
    for user_id in keep:
        CommitteeMember.objects.get_or_create(committee=committee, user_id=user_id)
    for user in (by, *people.values()):
        permissions.forget_seats(user)
    after = {"chair": chair.pk, "members": sorted(keep)}
    trail.record(
        action="committee_named",
        actor=by,
        data={"call": call.pk, "before": before, "after": after},
    )
    return committee


def _member(by, application):
    member = permissions.seat(by, application.call_id)
    if member is None:
        raise NotVisible()
    return member


def _application(application):
    try:
        return (
            GrantApplication.objects.select_for_update(of=("self",))
            .select_related("programme", "call", "applicant")
            .get(pk=application.pk)
        )
    except GrantApplication.DoesNotExist:
        raise NotVisible() from None


@transaction.atomic
def declare(*, application, by, conflict, note=""):
    """A member declares whether they have a conflict of interest with the application
    (once). With a conflict they no longer see or score it."""
    application = _application(application)
    require(permissions.can_declare(by, application))
    note = checked_text(note, Declaration._meta.get_field("note"))
    declaration = Declaration.objects.create(
        member=_member(by, application), application=application, conflict=bool(conflict), note=note
    )
    trail.record(
        action="committee_declaration",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        comment=note,
        data={"call": application.call_id, "conflict": declaration.conflict},
    )
    return declaration


@transaction.atomic
def score(*, application, by, scores):
    """A member's scores, 1-5 for every criterion of the programme's rubric
    ({criterion id: score}), given at once and final. The audit event keeps that they
    scored, not the scores (the minutes hold them)."""
    application = _application(application)
    require(permissions.can_score(by, application))
    rubric = list(application.programme.rubric.all())
    if not rubric:
        raise ServiceError(_("The programme has no scoring rubric."))
    wanted = {criterion.pk: criterion for criterion in rubric}
    given = {}
    for key, value in (scores or {}).items():
        try:
            criterion_id, value = int(key), int(value)
        except (TypeError, ValueError):
            raise ServiceError(
                _("Scores are whole numbers from 1 to 5."),
                details={"scores": [_("Scores are whole numbers from 1 to 5.")]},
            ) from None
        if criterion_id not in wanted:
            raise ServiceError(_("Unknown criterion."), details={"scores": [_("Unknown criterion.")]})
        if not 1 <= value <= 5:
            raise ServiceError(
                _("Scores are whole numbers from 1 to 5."),
                details={"scores": [_("Scores are whole numbers from 1 to 5.")]},
            )
        given[criterion_id] = value
    missing = [criterion.label for criterion in rubric if criterion.pk not in given]
    if missing:
        raise RuleNotMet(
            [("scores_missing", _("Score every criterion: %(names)s.") % {"names": ", ".join(missing)})]
        )
    total_weight = sum(criterion.weight for criterion in rubric)
    weighted = (sum(wanted[c].weight * s for c, s in given.items()) / total_weight).quantize(TWO_PLACES)
    scoring = Scoring.objects.create(
        member=_member(by, application),
        application=application,
        weighted=weighted,
        lowest=min(given.values()),
    )
    ScoringLine.objects.bulk_create(
        [ScoringLine(scoring=scoring, criterion_id=c, score=s) for c, s in sorted(given.items())]
    )
    trail.record(
        action="committee_scored",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={"call": application.call_id},
    )
    return scoring


@transaction.atomic
def approve_list(*, call, by, comment=""):
    """The approver approves the ranked list: every application recommended for
    funding that is not yet approved goes through the `approve` step (its guards and
    four-eyes rules: grants.permissions), each on its own; those refused stay with the
    reason. Returns {"approved": [ids], "refused": {id: reason}}."""
    call = _locked_call(call)
    require(permissions.can_approve_list(by, call))
    approved, refused = [], {}
    for row in selectors.ranked_list(call):
        app = row.application
        if row.recommendation != selectors.FUND or app.state != State.BUSINESS_TRAINING:
            continue
        try:
            with transaction.atomic():
                grant_services.take_transition(application=app, name="approve", by=by, comment=comment)
            approved.append(app.pk)
        except (ServiceError, NotAllowed, NotVisible) as refusal:
            refused[app.pk] = _reason(refusal)
    Committee.objects.filter(call=call).update(list_approved_at=timezone.now(), list_approved_by=by)
    trail.record(
        action="ranked_list_approved",
        actor=by,
        data={"call": call.pk, "approved": approved, "refused": sorted(refused)},
    )
    return {"approved": approved, "refused": refused}


def _reason(refusal):
    rules = getattr(refusal, "rules", None)
    if rules:
        return " ".join(str(message) for _code, message in rules)
    return str(getattr(refusal, "detail", refusal))


def offer_reserve(*, call, by, freed_by=None, reason):
    """Offer what the call has left to the first application on its reserve list it
    covers (and that has no offer yet): a task for the approver, audited. Returns the
    offer or None. Runs inside the caller's transaction (a transition's hook)."""
    call = Call.objects.select_related("programme").get(pk=call.pk)
    if not _list_approved(call):
        return None
    waiting = ReserveOffer.objects.filter(call=call, status=ReserveOffer.Status.OPEN)
    available = call.remaining_budget() - sum(
        (o.application.requested_total for o in waiting.select_related("application")), Decimal("0")
    )
    already = set(call.reserve_offers.values_list("application_id", flat=True))
    for row in selectors.ranked_list(call):
        app = row.application
        if row.recommendation == selectors.DO_NOT_FUND or app.state not in (
            State.SUBMITTED,
            State.BUSINESS_TRAINING,
        ):
            continue
        if app.pk in already:
            continue
        if row.amount > available:
            return None
        offer = ReserveOffer.objects.create(
            call=call, application=app, freed_by=freed_by, reason=reason, available=available
        )
        trail.record(
            action="reserve_offered",
            actor=by,
            application=app,
            from_state=app.state,
            to_state=app.state,
            data={
                "call": call.pk,
                "offer": offer.pk,
                "freed_by": getattr(freed_by, "pk", None),
                "reason": reason,
                "available": str(available),
            },
        )
        return offer
    return None


def _list_approved(call):
    return Committee.objects.filter(call=call, list_approved_at__isnull=False).exists()


@transaction.atomic
def decide_offer(*, offer, by, accept, comment=""):
    """The approver accepts the offer (the application is approved through the
    `approve` step) or declines it (the money goes to the next on the reserve list)."""
    offer = (
        ReserveOffer.objects.select_for_update(of=("self",))
        .select_related("call__programme", "application")
        .get(pk=offer.pk)
    )
    require(permissions.can_approve_list(by, offer.call))
    if offer.status != ReserveOffer.Status.OPEN:
        raise Conflict(_("This offer has been decided already."))
    if accept:
        grant_services.take_transition(application=offer.application, name="approve", by=by, comment=comment)
    offer.status = ReserveOffer.Status.ACCEPTED if accept else ReserveOffer.Status.DECLINED
    offer.decided_at = timezone.now()
    offer.decided_by = by
    offer.save(update_fields=["status", "decided_at", "decided_by"])
    trail.record(
        action="reserve_offer_accepted" if accept else "reserve_offer_declined",
        actor=by,
        application=offer.application,
        comment=comment,
        data={"call": offer.call_id, "offer": offer.pk},
    )
    if not accept:
        offer_reserve(call=offer.call, by=by, freed_by=offer.application, reason="declined")
    return offer


# Money freed in a call: a grant withdrawn or cancelled, or delivered under its approved
# amount. The hooks run in the step's transaction, under the programme's lock.
@transitions.after("withdraw")
def _offer_after_withdrawal(*, application, by, comment):
    offer_reserve(call=application.call, by=by, freed_by=application, reason="withdrawn")


@transitions.after("cancel")
def _offer_after_cancellation(*, application, by, comment):
    offer_reserve(call=application.call, by=by, freed_by=application, reason="cancelled")


@transitions.after("record_delivery")
def _offer_after_delivery_under_budget(*, application, by, comment):
    # Settled at its delivered cost: what it cost less than approved is free again.
    offer_reserve(call=application.call, by=by, freed_by=application, reason="under_budget")
