"""Writes of the grant contract: issuing and printing it, noting its signed copy, the
own contribution's payments (and their reversals) and the business's registration.
Each checks the permission first, runs in one transaction and writes an audit event."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail
from core.errors import Conflict, ServiceError, checked_text, require
from core.money import parse_amount

from .. import contract_pdf, pdf, permissions
from ..contracts import CONTRACT_STATES
from ..models import ContributionPayment, GrantApplication, GrantContract, contribution_of
from .applications import locked
from .finance import maybe_complete_delivery


def contract_number(application, issued_on):
    """One contract per grant: the year it was issued and the grant's number."""
    return f"GC-{issued_on.year}-{application.pk:06d}"


def _in_contract_state(application):
    if application.state not in CONTRACT_STATES:
        raise Conflict(_("A grant contract is made for approved grants only."), code="wrong_state")


def _issue(application, by):
    """The application's contract, made now from the approval if it has none yet. The
    application must be locked by the caller."""
    contract = GrantContract.objects.filter(application=application).first()
    if contract is not None:
        return contract
    programme = application.programme
    issued_on = timezone.localdate()
    amount = application.approved_amount or application.compute_requested_total()
    contribution = contribution_of(amount, programme.own_contribution_percent)
    contract = GrantContract.objects.create(
        application=application,
        number=contract_number(application, issued_on),
        issued_on=issued_on,
        issued_by=by,
        language=pdf.language_of(application),
        approved_amount=amount,
        contribution_percent=programme.own_contribution_percent,
        contribution_amount=contribution,
        contribution_due_on=issued_on + datetime.timedelta(days=programme.contribution_due_days)
        if contribution
        else None,
    )
    trail.record(
        action="contract_issued",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={
            "contract": contract.number,
            "amount": str(amount),
            "contribution": str(contribution),
            "language": contract.language,
        },
    )
    return contract


@transaction.atomic
def issue_contract(*, application, by):
    """The grant's contract, issued on first use with the terms of the approval and the
    programme as they are now (kept afterwards)."""
    require(permissions.can_print_contract(by, application))
    application = locked(application)
    _in_contract_state(application)
    return _issue(application, by)


@transaction.atomic
def contract_pdf_for(*, application, by):
    """The contract's PDF (issued first if needed), audited as printed."""
    contract = issue_contract(application=application, by=by)
    signer = application.approved_by
    content = contract_pdf.render(
        contract, signer_name=(signer.get_full_name() or signer.username) if signer else ""
    )
    trail.record(
        action="contract_printed",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={"contract": contract.number, "language": contract.language},
    )
    return contract, content


def note_signed_contract(*, document, by):
    """A signed copy of the contract arrived (an upload of kind signed_contract): the
    contract keeps when, and a delivery waiting only for it is recorded."""
    with transaction.atomic():
        application = locked(document.application)
        if application.state not in CONTRACT_STATES:
            return None
        contract = _issue(application, by)
        if contract.signed_copy_id is None:
            contract.signed_copy = document
            contract.signed_received_at = timezone.now()
            contract.save(update_fields=["signed_copy", "signed_received_at"])
            trail.record(
                action="contract_signed_received",
                actor=by,
                application=application,
                from_state=application.state,
                to_state=application.state,
                # Noted once: before it, the contract had no signed copy.
                data={"contract": contract.number, "document": document.pk, "before": {"signed_copy": None}},
            )
    try:
        maybe_complete_delivery(application=application, by=by)
    except ServiceError:
        pass
    return contract


def _payment_state(application):
    if application.state not in CONTRACT_STATES:
        raise Conflict(_("Contribution payments are recorded for approved grants only."), code="wrong_state")


@transaction.atomic
def record_contribution_payment(*, application, by, amount, paid_on, reference):
    """A payment of the own contribution: more than zero, at most what is outstanding,
    not dated in the future, with its bank reference."""
    require(permissions.can_record_payment(by, application))
    application = locked(application)
    _payment_state(application)
    amount = parse_amount(amount, "amount")
    if amount <= 0:
        raise ServiceError(
            _("A payment is more than zero."), details={"amount": [_("A payment is more than zero.")]}
        )
    outstanding = application.contribution_outstanding()
    if amount > outstanding:
        message = _("The payment is more than the %(outstanding)s %(currency)s outstanding.") % {
            "outstanding": outstanding,
            "currency": application.programme.currency,
        }
        raise ServiceError(message, code="over_balance", details={"amount": [message]})
    if paid_on > timezone.localdate():
        message = _("A payment cannot be dated in the future.")
        raise ServiceError(message, details={"paid_on": [message]})
    reference = checked_text(reference, ContributionPayment._meta.get_field("reference"))
    if not reference:
        message = _("Give the payment's reference (bank statement or receipt).")
        raise ServiceError(message, details={"reference": [message]})
    payment = ContributionPayment.objects.create(
        application=application, amount=amount, paid_on=paid_on, reference=reference, recorded_by=by
    )
    trail.record(
        action="contribution_paid",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        comment=reference,
        data={"payment": payment.pk, "amount": str(amount), "paid_on": paid_on.isoformat()},
    )
    maybe_complete_delivery(application=application, by=by)
    return payment


@transaction.atomic
def reverse_contribution_payment(*, payment, by, reason):
    """Correct a payment recorded in error: a reversing entry of the opposite amount
    (payments are never edited or deleted). A payment is reversed once."""
    application = payment.application
    require(permissions.can_record_payment(by, application))
    application = locked(application)
    _payment_state(application)
    payment = ContributionPayment.objects.select_for_update().get(pk=payment.pk)
    if payment.is_reversal:
        raise Conflict(_("A reversal cannot itself be reversed."), code="is_reversal")
    if ContributionPayment.objects.filter(reverses=payment).exists():
        raise Conflict(_("This payment is already reversed."), code="already_reversed")
    reason = checked_text(reason, ContributionPayment._meta.get_field("reference"), key="reason")
    if not reason:
        message = _("Say why the payment is reversed.")
        raise ServiceError(message, details={"reason": [message]})
    reversal = ContributionPayment.objects.create(
        application=application,
        amount=-payment.amount,
        paid_on=timezone.localdate(),
        reference=reason,
        reverses=payment,
        recorded_by=by,
    )
    trail.record(
        action="contribution_reversed",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        comment=reason,
        data={"payment": payment.pk, "reversal": reversal.pk, "amount": str(reversal.amount)},
    )
    return reversal


@transaction.atomic
def record_registration(*, application, by, number, registered_on):
    """The business's registration number and date (corrected by recording them again)."""
    require(permissions.can_record_registration(by, application))
    application = locked(application)
    field = GrantApplication._meta.get_field("business_registration_number")
    number = checked_text(number, field, key="number")
    if not number:
        message = _("Give the registration number.")
        raise ServiceError(message, details={"number": [message]})
    if registered_on is None or registered_on > timezone.localdate():
        message = _("Give the registration date; it cannot be in the future.")
        raise ServiceError(message, details={"registered_on": [message]})
    before = {
        "number": application.business_registration_number,
        "registered_on": application.business_registered_on.isoformat()
        if application.business_registered_on
        else None,
    }
    application.business_registration_number = number
    application.business_registered_on = registered_on
    application.save(update_fields=["business_registration_number", "business_registered_on", "updated_at"])
    trail.record(
        action="business_registered",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={"before": before, "after": {"number": number, "registered_on": registered_on.isoformat()}},
    )
    maybe_complete_delivery(application=application, by=by)
    return application
