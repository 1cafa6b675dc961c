"""The application page: plan, items, documents, training, assessment, deliveries,
visits and history, with the workflow steps the user may take (and why others are
blocked), the diagram, the sensitive section on request; uploads and downloads."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import OuterRef, Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applicants import roles, sensitivity
from applicants import services as applicant_services
from applicants.forms import ReferralReviewForm
from applicants.permissions import can_change_channels
from applicants.roles import role_required
from assessments import certificates
from assessments import selectors as assessment_selectors
from assessments.forms import criterion_label
from assessments.models import MonitoringVisit
from core.errors import ServiceError, require
from core.web import error_messages, safe_next
from grants import contracts, documents, handover, permissions, selectors, services, transitions, workflow
from grants.api import serve_document
from grants.diagram import workflow_svg
from grants.forms import (
    ApprovalForm,
    ContributionPaymentForm,
    ContributionReversalForm,
    DocumentForm,
    ReassignForm,
    RegistrationForm,
    TransitionForm,
    equipment_outcomes,
)
from grants.models import STATE_LABELS, Document, DocumentKind, EquipmentOutcome
from grants.views import timeline
from grants.views.common import visible_application
from grants.workflow import State

from . import cooperatives, selection
from .applications import NEXT_STEP
from .next_step import next_step

# ---- the application page ----------------------------------------------------------------


def _is_own_view(user, application):
    return not roles.is_staff_member(user) and permissions.is_own(user, application)


def _transition_rows(application, user):
    """Steps this user may take now, and steps their role could take but a rule (or the
    four-eyes principle) blocks, with the sentence that says why."""
    rows = []
    for row in services.available_transitions(application, user):
        step = transitions.step(row["name"])
        if row["allowed"] or user.has_perm(step.permission):
            # Steps that end an application are shown as such, so nobody takes one by accident.
            rows.append({**row, "label": step.button, "danger": step.ends})
    return rows


def _upload_kinds(user, application):
    return [kind for kind in DocumentKind.values if documents.can_upload(user, application, kind)]


def _diagram(state):
    return _diagram_in(state, translation.get_language())


@functools.lru_cache(maxsize=64)
def _diagram_in(state, language):
    """The workflow diagram depends on the state and the language only: drawn once each."""
    return workflow_svg(current_state=state)


def _documents(user, application):
    documents = application.documents.order_by("-created_at", "-id")
    return permissions.visible_documents(user, application, documents)


def _items(application):
    return application.items.with_delivered().order_by("position", "id")


def _deliveries(application):
    """Each delivery with its lines and whether a signed protocol uploaded after it
    covers it, in one query: a LEFT JOIN, so that a delivery without lines would still
    show."""
    deliveries = {}
    rows = application.deliveries.order_by("delivered_on", "id", "lines__id").values_list(
        "pk",
        "delivered_on",
        "supplier",
        "invoice_number",
        "created_at",
        "handover_protocol__created_at",
        "lines__quantity",
        "lines__item__description",
        "lines__amount",
        "lines__amount_eur",
        "lines__pk",
        "lines__serial_number",
        "lines__asset_tag",
        "lines__outcome",
    )
    for row in rows:
        pk, delivered_on, supplier, invoice, recorded, signed, quantity, description, amount, amount_eur = (
            row[:10]
        )
        line_pk, serial_number, asset_tag, outcome = row[10:]
        delivery = deliveries.setdefault(
            pk,
            {
                "pk": pk,
                "delivered_on": delivered_on,
                "supplier": supplier,
                "invoice_number": invoice,
                # As Delivery.objects.without_protocol() reads it.
                "has_protocol": signed is not None and signed >= recorded,
                "lines": [],
            },
        )
        if quantity is not None:
            delivery["lines"].append(
                {
                    "pk": line_pk,
                    "quantity": quantity,
                    "description": description,
                    "amount": amount,
                    "amount_eur": amount_eur,
                    "serial_number": serial_number,
                    "asset_tag": asset_tag,
                    "outcome": outcome,
                    "delivered_on": delivered_on,
                }
            )
    return list(deliveries.values())


def _detail_context(
    request, application, *, transition_form=None, document_form=None, approval_form=None, errors=()
):
    """The application page's context, section by section: what everyone who sees the
    page sees, then (for staff) the history, training and assessment, and what they
    may do next. A new section of the page is one more function here."""
    user = request.user
    own_view = _is_own_view(user, application)
    # What the page shows and the steps' rules also read (the active enrolment, the
    # current assessment, the visits), read once and before the steps are checked.
    application.remember_reads()
    enrolment = assessment_selectors.active_enrolment(application)
    assessment = None
    if not own_view:
        assessment = assessment_selectors.current_assessment(application)
        prefetch_related_objects(
            [application], Prefetch("visits", queryset=MonitoringVisit.objects.order_by("due_on", "id"))
        )
    context = _overview(user, application, own_view, transition_form, document_form, errors)
    if document_form is None and request.GET.get("upload") in context["upload_kinds"]:
        # A link to one kind of upload (the next-step panel's) chooses it in the form.
        context["document_form"] = DocumentForm(
            kinds=context["upload_kinds"], initial={"kind": request.GET["upload"]}
        )
    context["approval_form"] = _approval_form(context["transitions"], application, approval_form)
    context.update(_certificate_section(user, application, enrolment))
    context.update(cooperatives.members_section(user, application))
    events = selectors.history_for(user, application).select_related("actor")
    if own_view:
        context["timeline"] = timeline.for_applicant(events, user.pk)
        context["next_step"] = NEXT_STEP.get(application.state, "")
        context["panel"] = next_step(application, user, context)
        return context
    context.update(_history_section(user, application, events))
    context.update(_sensitive_section(request, application))
    context.update(_news_section(request, application))
    context.update(_training_and_assessment(application, enrolment, assessment))
    context.update(_staff_actions(user, application))
    context.update(_contract_section(user, application))
    context.update(selection.household_section(user, application))
    context.update(_equipment_outcome_fields(user, application, context))
    context["panel"] = next_step(application, user, context)
    return context


def _overview(user, application, own_view, transition_form, document_form, errors):
    kinds = _upload_kinds(user, application)
    transitions = _transition_rows(application, user)
    return {
        "own_view": own_view,
        "application": application,
        "applicant": application.applicant,
        "programme": application.programme,
        "items": _items(application),
        "documents": _documents(user, application),
        "transitions": transitions,
        "any_step": any(row["allowed"] for row in transitions),
        "transition_form": transition_form or TransitionForm(for_applicant=own_view),
        "document_form": document_form or DocumentForm(kinds=kinds),
        "upload_kinds": kinds,
        "can_edit": permissions.can_edit_application(user, application).allowed,
        "errors": list(errors),
        "diagram": _diagram(application.state),
        "over_ceiling": application.requested_total > application.programme.ceiling,
    }


def _approval_form(transitions, application, form):
    """The approver's per-item fields (approve less than was asked), with the step."""
    if form is not None:
        return form
    if not any(row["name"] == "approve" and row["allowed"] for row in transitions):
        return None
    return ApprovalForm(items=application.items.order_by("position", "id"))


def _certificate_section(user, application, enrolment):
    training_completed = enrolment.is_completed() if enrolment else False
    return {
        "training_completed": training_completed,
        "can_get_certificate": training_completed
        and certificates.can_get_certificate(user, application).allowed,
    }


def _history_section(user, application, events):
    names = roles.sees_names(user)
    parties = set() if names else _party_user_ids(application)
    return {
        "history": [
            {
                "event": e,
                "label": timeline.label(e.action),
                "actor": timeline.actor_name(e) if names else timeline.actor_without_names(e, parties),
                "from_state": STATE_LABELS.get(e.from_state, e.from_state),
                "to_state": STATE_LABELS.get(e.to_state, e.to_state),
            }
            for e in events
        ],
        "shows_names": names,
    }


def _sensitive_section(request, application):
    """The special-category facts, shown only on request (`?show=sensitive`)."""
    user, applicant = request.user, application.applicant
    allowed = sensitivity.can_see_sensitive(user, applicant)
    shown = allowed and request.GET.get("show") == "sensitive"
    review = ""
    if shown and sensitivity.may_review_referral(user, applicant):
        facts = getattr(applicant, "sensitive", None) if hasattr(applicant, "sensitive") else None
        review = facts.referral_review if facts is not None else ""
    return {
        "can_see_sensitive": allowed,
        "sensitive": sensitivity.sensitive_section(user, applicant) if shown else None,
        "referral_review": review,
        "referral_review_form": ReferralReviewForm() if review else None,
    }


def _news_section(request, application):
    """How the person gets news (email, SMS, none; who recorded it) and, on request
    (`?show=messages`, as the sensitive facts: the page's queries stay as they were),
    the latest SMS with their delivery and cost: for staff who read personal records."""
    user = request.user
    if not roles.sees_personal_data(user):
        return {}
    applicant = application.applicant
    shown = request.GET.get("show") == "messages"
    return {
        "news": {
            "applicant": applicant,
            "may_change": can_change_channels(user, applicant).allowed,
            "shown": shown,
            "sms": selectors.sms_to(applicant) if shown else [],
        }
    }


def _training_and_assessment(application, enrolment, assessment):
    scores = []
    if assessment:
        ordered = sorted(assessment.scores.all(), key=lambda s: (s.criterion.position, s.criterion_id))
        scores = [{"label": criterion_label(score.criterion), "score": score.score} for score in ordered]
    return {
        "enrolment": enrolment,
        "attendance_percent": round(enrolment.attendance_share() * 100) if enrolment else None,
        "assessment": assessment,
        "scores": scores,
        "deliveries": _deliveries(application),
        "visits": application.visits.all(),
    }


def _staff_actions(user, application):
    """What a member of staff may do from the page besides the workflow steps."""
    is_officer = roles.has_role(user, roles.FIELD_OFFICER) and not permissions.is_party(user, application)
    in_assessment = application.state in (State.SUBMITTED, State.BUSINESS_TRAINING)
    officer_in_assessment = is_officer and in_assessment
    return {
        "can_assess": officer_in_assessment and user.has_perm("assessments.add_assessment"),
        "can_enrol": officer_in_assessment,
        "cohorts": assessment_selectors.cohorts_for(user).filter(
            programme=application.programme_id, centre=application.centre_id
        )
        if officer_in_assessment
        else [],
        "can_deliver": application.state == State.APPROVED
        and permissions.can_record_delivery_lines(user, application).allowed,
        "can_record_visit": is_officer and application.state == State.FOLLOW_UP,
        "officers": selectors.field_officers_of(application.centre_id)
        if permissions.can_reassign(user, application).allowed
        else None,
        "can_print_protocol": application.state in handover.PRINTABLE_STATES
        and handover.can_print_protocol(user, application).allowed,
        "today": timezone.localdate(),
        "open_duplicate": in_assessment
        and user.has_perm("applicants.view_duplicateflag")
        and workflow.has_open_duplicate(application),
    }


def _contract_section(user, application):
    """The grant contract from the approval on: its state, the PDF, the signed copy, the
    own contribution's payments and the registration, for the roles that print it."""
    if application.state not in contracts.CONTRACT_STATES:
        return {"contract_state": None}
    if not permissions.can_print_contract(user, application):
        return {"contract_state": None}
    registration = permissions.can_record_registration(user, application).allowed
    return {
        "contract_state": contracts.summary(application),
        "can_record_payment": permissions.can_record_payment(user, application).allowed,
        "can_record_registration": registration,
        "can_upload_contract": documents.can_upload(user, application, DocumentKind.SIGNED_CONTRACT).allowed,
        "payment_form": ContributionPaymentForm(initial={"paid_on": timezone.localdate()}),
        "reversal_form": ContributionReversalForm(),
        "registration_form": RegistrationForm(
            initial={
                "number": application.business_registration_number,
                "registered_on": application.business_registered_on,
            }
        )
        if registration
        else None,
    }


def _equipment_outcome_fields(user, application, context):
    """What the discontinue step asks about each delivered item (read from the page's
    deliveries), for who may take it."""
    may_discontinue = any(row["name"] == "discontinue" and row["allowed"] for row in context["transitions"])
    if application.state != State.FOLLOW_UP or not may_discontinue:
        return {"equipment_lines": [], "reallocation_targets": []}
    return {
        "equipment_lines": [
            line for delivery in context["deliveries"] for line in delivery["lines"] if not line["outcome"]
        ],
        "reallocation_targets": list(selectors.reallocation_targets(user, application)),
        "equipment_outcomes": EquipmentOutcome.choices,
    }


def _party_user_ids(application):
    """The accounts of the applicant and the cooperative members: whom a history without
    names calls "the applicant"."""
    members = set(application.members.exclude(user=None).values_list("user_id", flat=True))
    return members | {application.applicant.user_id}


def render_detail(request, application, *, status=200, **kwargs):
    template = (
        "grants/application_mine_detail.html"
        if _is_own_view(request.user, application)
        else "grants/application_detail.html"
    )
    return render(request, template, _detail_context(request, application, **kwargs), status=status)


@login_required
def application_detail(request, pk):
    user = request.user
    # The sensitivity rules ask it for the section, the documents and each kind of
    # upload: read with the application.
    assigned = sensitivity.assigned_officer_exists(user, OuterRef("applicant_id"))
    application = visible_application(user, pk, user_is_assigned_officer=assigned)
    sensitivity.remember_assigned_officer(user, application.applicant, application.user_is_assigned_officer)
    return render_detail(request, application)


@login_required
@require_POST
def application_transition(request, pk):
    user = request.user
    application = visible_application(user, pk)
    form = TransitionForm(request.POST, for_applicant=_is_own_view(user, application))
    name = request.POST.get("transition", "")
    approval = None
    if name == "approve" and any(key.startswith("item-") for key in request.POST):
        approval = ApprovalForm(request.POST, items=application.items.order_by("position", "id"))
    if not form.is_valid() or (approval is not None and not approval.is_valid()):
        return render_detail(request, application, transition_form=form, approval_form=approval, status=400)
    comment = form.cleaned_data["comment"]
    try:
        if approval is not None:
            application = services.approve_reduced(
                application=application, by=user, items=approval.granted(), reason=comment
            )
        elif name == "discontinue":
            application = services.discontinue_grant(
                application=application,
                by=user,
                comment=comment,
                outcomes=equipment_outcomes(request.POST, selectors.undisposed_lines(application)),
            )
        else:
            application = services.take_transition(
                application=application, name=name, by=user, comment=comment
            )
    except ServiceError as exc:
        application = visible_application(user, pk)
        return render_detail(
            request,
            application,
            transition_form=form,
            approval_form=approval,
            errors=error_messages(exc),
            status=exc.status,
        )
    messages.success(
        request,
        _("Done: the application is now “%(state)s”.") % {"state": application.get_state_display()},
    )
    if selectors.applications_for(user).filter(pk=pk).exists():
        return redirect(safe_next(request, reverse("application-detail", args=[pk])))
    return redirect("home")


@role_required(roles.PROGRAMME_MANAGER)
@require_POST
def application_reassign(request, pk):
    """A programme manager gives the application to another field officer of its centre."""
    user = request.user
    application = visible_application(user, pk)
    form = ReassignForm(request.POST, officers=selectors.field_officers_of(application.centre_id))
    if not form.is_valid():
        messages.error(request, form.errors["officer"][0])
        return redirect("application-detail", pk=pk)
    officer = form.cleaned_data["officer"]
    services.reassign_application(application=application, officer=officer, by=user)
    messages.success(
        request,
        _("The application is now with %(name)s.") % {"name": officer.get_full_name() or officer.username},
    )
    return redirect("application-detail", pk=pk)


@role_required(roles.PROGRAMME_MANAGER)
@require_POST
def referral_review(request, pk):
    """A programme manager replaces a free-text referral kept for review by the
    institution it names (applicants.services.referral_review_close)."""
    application = visible_application(request.user, pk)
    form = ReferralReviewForm(request.POST)
    back = f"{reverse('application-detail', args=[pk])}?show=sensitive#sensitive-title"
    if not form.is_valid():
        messages.error(request, _("Choose one of the institutions listed."))
        return redirect(back)
    try:
        applicant_services.referral_review_close(
            by=request.user,
            applicant=application.applicant,
            referral=form.cleaned_data["referral"] or None,
            referral_other=form.cleaned_data["referral_other"],
        )
    except ServiceError as exc:
        for message in error_messages(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("The referral is reviewed; the text written before is removed."))
    return redirect(back)


# ---- documents ---------------------------------------------------------------------------


@transaction.non_atomic_requests
@login_required
@require_POST
def document_upload(request, pk):
    # Outside the request transaction: the file travels to storage before any row is
    # written (grants.documents), so no database lock is held during the transfer.
    user = request.user
    application = visible_application(user, pk)
    kinds = _upload_kinds(user, application)
    if not kinds:
        require(documents.can_upload(user, application, DocumentKind.OTHER))
    try:
        documents.check_request_size(request.META.get("CONTENT_LENGTH"))
    except ServiceError as exc:
        form = DocumentForm(kinds=kinds)
        form.add_error(None, str(exc.message))
        return render_detail(request, application, document_form=form, status=exc.status)
    form = DocumentForm(request.POST, request.FILES, kinds=kinds)
    status = 400
    if form.is_valid():
        try:
            documents.upload_document(
                application=application,
                by=user,
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
            )
        except ServiceError as exc:
            form.add_error(None, str(exc.message))
            status = exc.status
        else:
            messages.success(request, _("The document was added."))
            return redirect("application-detail", pk=pk)
    return render_detail(request, application, document_form=form, status=status)


@login_required
def document_download(request, pk):
    user = request.user
    document = (
        Document.objects.select_related("application__applicant", "application__centre")
        .filter(pk=pk, application__in=selectors.applications_for(user))
        .first()
    )
    if document is None:
        raise Http404
    require(permissions.can_view_document(user, document))
    try:
        documents.record_download(document=document, by=user)
        return serve_document(document)
    except ServiceError as exc:
        # A missing object (404) or an unreachable store (503): say so, never a 500.
        messages.error(request, str(exc.message))
        return render_detail(request, document.application, status=exc.status)


@login_required
@require_POST
def application_channels(request, pk):
    """A field officer records the channels the person chose (the form on the page)."""
    application = visible_application(request.user, pk)
    applicant = application.applicant
    require(can_change_channels(request.user, applicant))
    chosen = request.POST.getlist("channels")
    try:
        applicant_services.set_contact_channels(
            applicant=applicant,
            by=request.user,
            accepts_email="email" in chosen,
            accepts_sms="sms" in chosen,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved: how the person gets news."))
    return redirect(f"{reverse('application-detail', args=[pk])}#news-title")
