"""Transfer of a case: a person, with their open applications, moves to another centre
(docs/permissions.md, "Transfer of a case"). Each function runs in one transaction,
checks the permission first, writes audit events and tells the person after commit."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applicants.models import Applicant, IntegrationCentre
from applicants.selectors import forget_permissions
from audit import trail
from core.errors import Conflict, NotVisible, ServiceError, require

from .. import notify, permissions
from ..models import CaseTransfer, GrantApplication
from ..workflow import State


def _locked_person(applicant):
    return Applicant.objects.select_for_update().select_related("centre").get(pk=applicant.pk)


def _check_destination(applicant, to_centre):
    problem = permissions.transfer_destination_problem(applicant, to_centre)
    if problem:
        raise ServiceError(problem, code="wrong_centre", details={"to_centre": [problem]})


@transaction.atomic
def transfer_case(*, applicant, to_centre, by):
    """A programme manager of the person's centre moves them to `to_centre` now."""
    applicant = _locked_person(applicant)
    require(permissions.can_transfer_case(by, applicant))
    _check_destination(applicant, to_centre)
    if CaseTransfer.objects.filter(applicant=applicant, status=CaseTransfer.Status.REQUESTED).exists():
        raise Conflict(_("A transfer of this person is waiting for a decision; decide it first."))
    transfer = CaseTransfer.objects.create(
        applicant=applicant,
        from_centre=applicant.centre,
        to_centre=to_centre,
        requested_by=by,
        status=CaseTransfer.Status.DONE,
    )
    return _move(transfer, applicant, by=by, assign_to=None)


@transaction.atomic
def request_transfer(*, applicant_id, date_of_birth, to_centre, by):
    """A field officer of `to_centre` asks for the person to be moved there. They name
    the person by id and date of birth, as the sending centre told them: anything that
    does not match is answered as if there were no such person."""
    require(permissions.can_request_transfer(by, to_centre))
    applicant = (
        Applicant.objects.select_for_update()
        .select_related("centre")
        .filter(pk=applicant_id, date_of_birth=date_of_birth, pseudonymised_at__isnull=True)
        .first()
    )
    if applicant is None:
        raise NotVisible()
    _check_destination(applicant, to_centre)
    if CaseTransfer.objects.filter(applicant=applicant, status=CaseTransfer.Status.REQUESTED).exists():
        raise Conflict(_("A transfer of this person is already waiting for a decision."))
    transfer = CaseTransfer.objects.create(
        applicant=applicant, from_centre=applicant.centre, to_centre=to_centre, requested_by=by
    )
    trail.record(
        action="case_transfer_requested",
        actor=by,
        applicant=applicant,
        data={"transfer": transfer.pk, "from_centre": transfer.from_centre_id, "to_centre": to_centre.pk},
    )
    return transfer


def _locked_request(transfer):
    transfer = CaseTransfer.objects.select_for_update().select_related("applicant").get(pk=transfer.pk)
    return transfer


@transaction.atomic
def confirm_transfer(*, transfer, by):
    """The sending centre agrees: the person and their open applications move, and the
    officer who asked is assigned the applications that move."""
    transfer = _locked_request(transfer)
    require(permissions.can_decide_transfer(by, transfer))
    if transfer.status != CaseTransfer.Status.REQUESTED:
        raise Conflict(_("This transfer has already been decided."))
    applicant = _locked_person(transfer.applicant)
    if applicant.centre_id != transfer.from_centre_id:
        raise Conflict(_("The person has moved to another centre meanwhile."))
    _check_destination(applicant, IntegrationCentre.objects.get(pk=transfer.to_centre_id))
    transfer.status = CaseTransfer.Status.DONE
    return _move(transfer, applicant, by=by, assign_to=transfer.requested_by)


@transaction.atomic
def decline_transfer(*, transfer, by):
    """The sending centre keeps the case (the reason is told in person, not stored)."""
    transfer = _locked_request(transfer)
    require(permissions.can_decide_transfer(by, transfer))
    if transfer.status != CaseTransfer.Status.REQUESTED:
        raise Conflict(_("This transfer has already been decided."))
    transfer.status = CaseTransfer.Status.DECLINED
    transfer.decided_by = by
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["status", "decided_by", "decided_at"])
    trail.record(
        action="case_transfer_declined",
        actor=by,
        applicant=transfer.applicant,
        data={
            "transfer": transfer.pk,
            "before": {"status": CaseTransfer.Status.REQUESTED},
            "after": {"status": CaseTransfer.Status.DECLINED},
        },
    )
    return transfer


def _move(transfer, applicant, *, by, assign_to):
    """Move the person and their open applications; one event on the person and one on
    each application, so that each history shows the move."""
    source, target = transfer.from_centre_id, transfer.to_centre_id
    moving = list(
        GrantApplication.objects.select_for_update(no_key=True)
        .filter(applicant=applicant)
        .exclude(state__in=State.ENDS)
        .order_by("pk")
    )
    applicant.centre_id = target
    applicant.save(update_fields=["centre", "updated_at"])
    officer = assign_to.pk if assign_to is not None else None
    for application in moving:
        before = {"centre": application.centre_id, "assigned_officer": application.assigned_officer_id}
        GrantApplication.objects.filter(pk=application.pk).update(
            centre_id=target, assigned_officer_id=officer, updated_at=timezone.now()
        )
        trail.record(
            action="case_transferred",
            actor=by,
            application=application,
            applicant=applicant,
            from_state=application.state,
            to_state=application.state,
            data={
                "transfer": transfer.pk,
                "before": before,
                "after": {"centre": target, "assigned_officer": officer},
            },
        )
    transfer.moved_applications = [application.pk for application in moving]
    transfer.decided_by = by
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["status", "moved_applications", "decided_by", "decided_at"])
    trail.record(
        action="case_transferred",
        actor=by,
        applicant=applicant,
        data={
            "transfer": transfer.pk,
            "before": {"centre": source},
            "after": {"centre": target},
            "applications": transfer.moved_applications,
        },
    )
    # What the request remembered of the person's applications (whose officer) is stale.
    forget_permissions(by)
    transfer_id = transfer.pk
    transaction.on_commit(lambda: notify.case_transferred(transfer_id))
    return transfer
