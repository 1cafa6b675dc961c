"""Writes to applications: creating and editing drafts, taking workflow transitions,
reassigning. Each runs in one transaction, checks the permission first, writes an
audit event, and leaves notifications to `transaction.on_commit`."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition
from guardian.shortcuts import assign_perm

from applicants import roles
from applicants.institutions import can_view_institution
from applicants.models import Applicant
from applicants.selectors import centre_ids
from audit import trail
from core.decisions import ALLOWED, NOT_VISIBLE, Decision
from core.errors import (
    Conflict,
    NotVisible,
    RuleNotMet,
    ServiceError,
    checked_text,
    require,
    too_long,
)
from core.money import parse_amount

from .. import notify, permissions, transitions
from .. import workflow as wf
from ..models import (
    MAX_QUANTITY,
    Commitment,
    EquipmentItem,
    GrantApplication,
    Programme,
)

PLAN_FIELDS = (
    "activity",
    "market",
    "experience",
    "expected_monthly_revenue",
    "expected_monthly_costs",
    "jobs_planned",
)


def _replace_items(application, items):
    """Replace the equipment list; items given with an `id` keep it."""
    if not isinstance(items, list):
        raise ServiceError(_("Items must be a list."), details={"items": [_("Items must be a list.")]})
    existing = {item.pk: item for item in application.items.all()}
    keep = set()
    for position, row in enumerate(items):
        description = checked_text(
            row.get("description"), EquipmentItem._meta.get_field("description"), key="items"
        )
        if not description:
            raise ServiceError(
                _("Every item needs a description."),
                details={"items": [_("Every item needs a description.")]},
            )
        try:
            quantity = int(row.get("quantity", 0))
        except (TypeError, ValueError):
            quantity = 0
        if quantity < 1 or quantity > MAX_QUANTITY:
            raise ServiceError(
                _("Quantities are whole numbers from 1."),
                details={"items": [_("Quantities are whole numbers from 1.")]},
            )
        unit_cost = parse_amount(row.get("unit_cost"), "items")
        item_id = row.get("id")
        if item_id is not None and item_id in existing:
            item = existing[item_id]
            item.description, item.quantity, item.unit_cost, item.position = (
                description,
                quantity,
                unit_cost,
                position,
            )
            item.save(update_fields=["description", "quantity", "unit_cost", "position"])
            keep.add(item.pk)
        else:
            item = EquipmentItem.objects.create(
                application=application,
                position=position,
                description=description,
                quantity=quantity,
                unit_cost=unit_cost,
            )
            keep.add(item.pk)
    application.items.exclude(pk__in=keep).delete()


def _apply_plan(application, plan):
    for field in PLAN_FIELDS:
        if field not in plan:
            continue
        value = plan[field]
        if field in ("expected_monthly_revenue", "expected_monthly_costs"):
            value = None if value in (None, "") else parse_amount(value, field)
        elif field == "jobs_planned":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ServiceError(
                    _("Jobs planned is a whole number."),
                    details={field: [_("Jobs planned is a whole number.")]},
                ) from None
            if not 0 <= value <= 1000:
                raise ServiceError(
                    _("Jobs planned is a whole number."),
                    details={field: [_("Jobs planned is a whole number.")]},
                )
        else:
            value = checked_text(value, GrantApplication._meta.get_field(field))
        setattr(application, field, value)


def can_create_for(user, applicant):
    """Applicants create their own drafts; field officers those of their centres' applicants."""
    if not user.is_authenticated:
        return NOT_VISIBLE
    if applicant.user_id == user.pk and roles.has_role(user, roles.APPLICANT):
        return ALLOWED
    if roles.has_role(user, roles.FIELD_OFFICER) and user.has_perm("grants.add_grantapplication"):
        if applicant.centre_id not in centre_ids(user):
            return NOT_VISIBLE
        if applicant.user_id == user.pk:
            return Decision(False, _("You cannot act on your own application."))
        return ALLOWED
    return Decision(False, _("Your role cannot create applications."))


@transaction.atomic
def create_application(
    *,
    by,
    applicant=None,
    programme,
    business_name,
    sector,
    plan=None,
    items=(),
    is_cooperative=False,
    members=(),
    call=None,
    institution=None,
):
    """A draft of `applicant`, or with `institution` an institutional grant: its contact
    person is the applicant, and its programme must allow institutions."""
    if institution is not None:
        applicant = institution.contact
        _check_institutional(by, institution, programme, is_cooperative=is_cooperative or bool(members))
    elif applicant is None:
        raise ServiceError(_("Say whom the application is for."), details={"applicant": [_("Required.")]})
    require(can_create_for(by, applicant))
    application = GrantApplication(
        applicant=applicant,
        institution=institution,
        programme=programme,
        call=open_call_for(programme, applicant.centre_id, call=call),
        centre_id=applicant.centre_id,
        business_name=checked_text(business_name, GrantApplication._meta.get_field("business_name")),
        sector=sector,
        is_cooperative=is_cooperative,
        created_by=by,
        assigned_officer=by if roles.has_role(by, roles.FIELD_OFFICER) else None,
    )
    _apply_plan(application, plan or {})
    application.save()
    if members:
        application.members.set(members)
    _replace_items(application, list(items))
    application.requested_total = application.compute_requested_total()
    application.save(update_fields=["requested_total"])
    grant_owner_permissions(application)
    trail.record(
        action="create",
        actor=by,
        application=application,
        on_behalf_of=applicant if by.pk != applicant.user_id else None,
        to_state=application.state,
    )
    return application


def _check_institutional(by, institution, programme, *, is_cooperative):
    require(can_view_institution(by, institution))
    if not programme.allows_institutions:
        raise ServiceError(
            _("This programme does not take institutions as grantees."),
            code="institutions_not_allowed",
            details={"programme": [_("This programme does not take institutions as grantees.")]},
        )
    if is_cooperative:
        raise ServiceError(
            _("An institution's grant is not a cooperative's."),
            code="institution_not_cooperative",
            details={"is_cooperative": [_("An institution's grant is not a cooperative's.")]},
        )


def open_call_for(programme, centre_id, *, call=None):
    """The programme's open call covering the centre (the one closing first, when several
    do), or the one chosen if it is such a call; else a ServiceError."""
    calls = programme.calls.open_on(timezone.localdate()).covering(centre_id).order_by("closes", "id")
    if call is not None:
        chosen = calls.filter(pk=getattr(call, "pk", call)).first()
        if chosen is None:
            raise ServiceError(
                _("This call is not open to the applicant's centre."),
                code="call_closed",
                details={"call": [_("The call is not open.")]},
            )
        return chosen
    found = calls.first()
    if found is None:
        raise ServiceError(
            _(
                "The programme's call for applications is not open; a draft can only be created in an open call."
            ),
            code="call_closed",
            details={"programme": [_("The call is not open.")]},
        )
    return found


def grant_owner_permissions(application):
    """The applicant holds the view and change permissions on it; cooperative members
    with accounts the view permission (they follow it; the contact person edits it)."""
    if application.applicant.user_id:
        for codename in ("view_grantapplication", "change_grantapplication"):
            assign_perm(f"grants.{codename}", application.applicant.user, application)
    for member in application.members.exclude(user=None).select_related("user"):
        assign_perm("grants.view_grantapplication", member.user, application)


@transaction.atomic
def update_draft(*, application, by, business_name=None, sector=None, plan=None, items=None):
    application = locked(application)
    require(permissions.can_edit_application(by, application))
    before, texts_before = _draft_facts(application), _draft_texts(application)
    if business_name is not None:
        application.business_name = checked_text(
            business_name, GrantApplication._meta.get_field("business_name")
        )
    if sector is not None:
        application.sector = sector
    if plan:
        _apply_plan(application, plan)
    if items is not None:
        _replace_items(application, items)
    application.requested_total = application.compute_requested_total()
    try:
        application.save()
    except ConcurrentTransition:
        raise Conflict(_("The application changed meanwhile; reload it and try again.")) from None
    texts_after = _draft_texts(application)
    trail.record(
        action="edit",
        actor=by,
        application=application,
        on_behalf_of=application.applicant if permissions.acts_on_behalf(by, application) else None,
        from_state=application.state,
        to_state=application.state,
        data={
            **(trail.changes(before, _draft_facts(application)) or {}),
            "text_changed": sorted(k for k in texts_after if texts_after[k] != texts_before[k]),
        },
    )
    return application


DRAFT_FACTS = [
    "sector",
    "is_cooperative",
    "expected_monthly_revenue",
    "expected_monthly_costs",
    "jobs_planned",
    "requested_total",
]


def _draft_facts(application):
    """The draft's figures and its equipment as [id, quantity, unit cost] (descriptions
    are the applicant's words: `_draft_texts`)."""
    facts = trail.snapshot(application, DRAFT_FACTS)
    facts["items"] = [
        [item.pk, item.quantity, str(item.unit_cost)] for item in application.items.order_by("position", "pk")
    ]
    return facts


def _draft_texts(application):
    texts = {
        name: getattr(application, name) for name in ("business_name", "activity", "market", "experience")
    }
    texts["items"] = [item.description for item in application.items.order_by("position", "pk")]
    return texts


def locked(application):
    try:
        return (
            # NO KEY: rows that refer to the application (audit events, documents) are
            # checked at COMMIT with FOR KEY SHARE; a plain FOR UPDATE would make those
            # transactions wait for this one while it waits for the audit chain head they
            # hold: a deadlock (found by `make soak`). Transitions still exclude each other.
            GrantApplication.objects.select_for_update(of=("self",), no_key=True)
            .select_related("programme", "call", "applicant")
            .get(pk=application.pk)
        )
    except GrantApplication.DoesNotExist:
        raise NotVisible() from None


def unmet_rules(application, name):
    """(code, message) for every guard of `name` that the application does not meet now."""
    meta = permissions.transition_meta(name)
    transition = meta.get_transition(application.state) if meta else None
    if transition is None:
        return []
    return [
        (rule.code, rule.message_for(application)) for rule in transition.conditions if not rule(application)
    ]


def available_transitions(application, user):
    """What the transitions endpoint and the application page show: every transition
    possible from the current state, whether this user may take it now, and why not."""
    result = []
    for name in transitions.NAMES:
        meta = permissions.transition_meta(name)
        transition = meta.get_transition(application.state)
        if transition is None:
            continue
        decision = permissions.can_transition(user, application, name)
        reason = "" if decision.allowed else str(decision.reason)
        if decision.allowed:
            failed = unmet_rules(application, name)
            if failed:
                decision = Decision(False)
                reason = " ".join(str(m) for _, m in failed)
        result.append(
            {
                "name": name,
                "target": transition.target,
                "allowed": decision.allowed,
                "reason": reason,
                "comment_required": transitions.step(name).comment_required is not None,
            }
        )
    return result


@transaction.atomic
def take_transition(*, application, name, by, comment="", data=None):
    """Take workflow transition `name`. Raises NotVisible (404), NotAllowed (403),
    Conflict (409: not in a state that allows it any more) or RuleNotMet (400).
    `data`: facts of the step for its audit row (a reduced approval's items)."""
    step = transitions.step(name)
    if step is None:
        raise NotVisible()
    application = locked(application)
    require(permissions.can_transition(by, application, name))
    meta = permissions.transition_meta(name)
    if not meta.has_transition(application.state):
        raise Conflict(
            _("This application is now “%(state)s”; this step is no longer possible.")
            % {"state": application.get_state_display()},
            code="wrong_state",
        )
    comment = (comment or "").strip()
    if len(comment) > transitions.COMMENT_MAX_LENGTH:
        raise too_long(transitions.COMMENT_MAX_LENGTH, "comment")
    if step.comment_required and not comment:
        raise RuleNotMet([("comment_required", step.comment_required)])
    if step.equipment_outcomes and not wf.EQUIPMENT_ACCOUNTED(application):
        raise RuleNotMet([(wf.EQUIPMENT_ACCOUNTED.code, wf.EQUIPMENT_ACCOUNTED.message)])
    if step.budget:
        # Serialises the steps that change a programme's committed amount: the budget
        # check and the commitment of an approval see every change made before it.
        # NO KEY, as in locked(): a new draft of the programme checks its foreign key to
        # the programme at COMMIT while holding the audit chain head.
        programme = Programme.objects.select_for_update(no_key=True).get(pk=application.programme_id)
        programme._budget_locked = True
        application.programme = programme
        # The call's budget share: its grants are the programme's, so the programme's
        # lock serialises its steps too.
        call = application.call
        call._budget_locked = True
    try:
        failed = unmet_rules(application, name)
        if failed:
            raise RuleNotMet(failed)

        source = application.state
        getattr(application, name)(**step.arguments(by=by, comment=comment))
    finally:
        if step.budget:
            programme._budget_locked = call._budget_locked = False
            programme.__dict__.pop("_committed_under_lock", None)
            call.__dict__.pop("_committed_under_lock", None)
    try:
        application.save()
    except ConcurrentTransition:
        raise Conflict(_("Someone else changed this application meanwhile; reload it.")) from None

    step.run_hooks(application, by=by, comment=comment)
    event = trail.record(
        action=name,
        actor=by,
        application=application,
        on_behalf_of=application.applicant
        if step.on_behalf and permissions.acts_on_behalf(by, application)
        else None,
        from_state=source,
        to_state=application.state,
        comment=comment,
        data=data,
    )
    event_id = event.pk
    transaction.on_commit(lambda: notify.state_changed(event_id))
    return application


@transitions.after("approve")
def _grant_items(*, application, by, comment):
    """Items approved as requested keep their quantity and unit cost as what was granted
    (a reduced approval has set its own before)."""
    application.items.filter(approved_quantity__isnull=True).update(
        approved_quantity=F("quantity"), approved_unit_cost=F("unit_cost")
    )


@transitions.after("approve")
def _commit_budget(*, application, by, comment):
    try:
        with transaction.atomic():
            Commitment.objects.create(
                application=application,
                programme_id=application.programme_id,
                amount=application.approved_amount,
                created_by=by,
            )
    except IntegrityError:
        raise Conflict(_("This grant already has a budget commitment.")) from None


@transitions.after("cancel")
def _release_commitment(*, application, by, comment):
    Commitment.objects.filter(application=application, status=Commitment.Status.ACTIVE).update(
        status=Commitment.Status.RELEASED,
        released_at=timezone.now(),
        released_by=by,
        release_reason=comment,
    )


def applicant_of(user):
    return Applicant.objects.filter(user=user).first()


@transaction.atomic
def reassign_application(*, application, officer, by):
    """A programme manager gives the application to another field officer of its centre."""
    application = locked(application)
    require(permissions.can_reassign(by, application, officer))
    previous = application.assigned_officer_id
    if previous == officer.pk:
        return application
    application.assigned_officer = officer
    application.save(update_fields=["assigned_officer", "updated_at"])
    trail.record(
        action="reassigned",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={
            "from_officer": previous,
            "to_officer": officer.pk,
            "before": {"assigned_officer": previous},
            "after": {"assigned_officer": officer.pk},
        },
    )
    return application
