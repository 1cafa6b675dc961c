"""Applications in the web interface: the inbox, "my applications", the application
form with its equipment rows, the application page with its workflow steps, documents."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from applicants import privacy, roles, sensitivity
from applicants.selectors import applicants_for, centres_for
from assessments import certificates
from assessments import selectors as assessment_selectors
from assessments.forms import criterion_label
from assessments.models import MonitoringVisit

from .. import documents, handover, permissions, selectors, services
from ..api import serve_document
from ..errors import NotVisible, ServiceError
from ..forms import ApplicationForm, DocumentForm, InboxFilterForm, ItemFormSet, TransitionForm
from ..models import AuditEvent, DeliveryLine, Document, DocumentKind
from ..workflow import State
from . import timeline
from .common import deny, error_messages, paginate, role_required, safe_next, visible_application

NEXT_STEP = {
    State.DRAFT: gettext_lazy(
        "Fill in your plan and the equipment you need, add your documents, then send the application."
    ),
    State.SUBMITTED: gettext_lazy(
        "A field officer will contact you to talk about your plan and invite you to the business training."
    ),
    State.BUSINESS_TRAINING: gettext_lazy(
        "Take part in the business training. Afterwards a manager decides on your grant."
    ),
    State.APPROVED: gettext_lazy("We are buying your equipment and will call you to arrange the handover."),
    State.EQUIPMENT_DELIVERED: gettext_lazy("Your equipment is delivered. A field officer will visit you."),
    State.FOLLOW_UP: gettext_lazy("A field officer will visit your business a few times in the coming year."),
    State.COMPLETED: gettext_lazy("Your grant is completed."),
    State.REJECTED: gettext_lazy("Your application was not approved. The reason is in the timeline."),
    State.WITHDRAWN: gettext_lazy("This application was withdrawn."),
    State.CANCELLED: gettext_lazy("This grant was cancelled. The reason is in the timeline."),
    State.DISCONTINUED: gettext_lazy("This grant was closed."),
}

TRANSITION_LABELS = {
    "submit": gettext_lazy("Send the application"),
    "return_for_changes": gettext_lazy("Return for changes"),
    "admit_to_training": gettext_lazy("Admit to business training"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "withdraw": gettext_lazy("Withdraw the application"),
    "cancel": gettext_lazy("Cancel the grant"),
    "record_delivery": gettext_lazy("Confirm equipment delivered"),
    "start_follow_up": gettext_lazy("Start follow-up visits"),
    "complete": gettext_lazy("Complete the grant"),
    "discontinue": gettext_lazy("Discontinue"),
}
STATE_LABELS = dict(State.CHOICES)
# Steps that end an application: shown as such, so nobody takes one by accident.
ENDING_TRANSITIONS = {"reject", "withdraw", "cancel", "discontinue"}


@login_required
def home(request):
    """Each role starts where its work is."""
    user = request.user
    for role, target in (
        (roles.FIELD_OFFICER, "inbox"),
        (roles.PROGRAMME_MANAGER, "approvals"),
        (roles.FINANCE_OFFICER, "finance-budget"),
        (roles.AUDITOR, "dashboard"),
        (roles.APPLICANT, "my-applications"),
    ):
        if roles.has_role(user, role):
            return redirect(target)
    return render(request, "grants/home.html")


# ---- lists -------------------------------------------------------------------------------


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def inbox(request):
    user = request.user
    centres = list(centres_for(user).only("id", "name"))
    programmes = list(selectors.programmes_for(user).select_related(None).only("id", "name"))
    form = InboxFilterForm(request.GET or None, programmes=programmes, centres=centres)
    filters = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    overdue = MonitoringVisit.objects.filter(
        application=OuterRef("pk"), visited_on__isnull=True, due_on__lt=today
    )
    applications = (
        selectors.application_list(
            user,
            state=filters.get("state"),
            programme=filters.get("programme"),
            centre=filters.get("centre"),
            q=filters.get("q"),
            overdue_visits=filters.get("overdue", False),
        )
        .prefetch_related(None)
        .select_related("programme", "applicant", "centre", "assigned_officer")
        .annotate(has_overdue_visit=Exists(overdue))
    )
    page = paginate(request, applications)
    due = assessment_selectors.due_visits(user)[:10] if roles.has_role(user, roles.FIELD_OFFICER) else []
    return render(
        request,
        "grants/application_inbox.html",
        {"form": form, "page": page, "due_visits": due, "today": today, "several_centres": len(centres) > 1},
    )


@role_required(roles.APPLICANT)
def my_applications(request):
    user = request.user
    events = AuditEvent.objects.select_related("actor").order_by("at", "id")
    applications = (
        selectors.applications_for(user)
        .select_related("programme")
        .prefetch_related(Prefetch("audit_events", queryset=events))
        .order_by("-created_at", "-id")
    )
    cards = [
        {
            "application": application,
            "next_step": NEXT_STEP.get(application.state, ""),
            "timeline": timeline.for_applicant(application.audit_events.all(), user.pk),
        }
        for application in applications
    ]
    return render(
        request,
        "grants/application_mine.html",
        {"cards": cards, "has_profile": services.applicant_of(user) is not None},
    )


# ---- the application form ----------------------------------------------------------------


def _applicant_for_new(request):
    """The person the new application is for: yourself, or (officers) the one chosen."""
    user = request.user
    if roles.has_role(user, roles.FIELD_OFFICER):
        applicant_id = request.POST.get("applicant") or request.GET.get("applicant")
        try:
            applicant_id = int(applicant_id)
        except (TypeError, ValueError):
            return None
        applicant = applicants_for(user).select_related("centre").filter(pk=applicant_id).first()
        if applicant is None:
            raise Http404
        return applicant
    applicant = services.applicant_of(user)
    if applicant is None:
        raise Http404
    return applicant


def _open_programmes(user, applicant):
    today = timezone.localdate()
    return (
        selectors.programmes_for(user)
        .filter(country_id=applicant.centre.country_id, call_opens__lte=today, call_closes__gte=today)
        .order_by("name")
    )


@login_required
def application_new(request):
    user = request.user
    applicant = _applicant_for_new(request)
    if applicant is None:
        messages.info(request, _("Choose the person the application is for, or register them first."))
        return redirect("applicant-list")
    deny(services.can_create_for(user, applicant))
    programmes = _open_programmes(user, applicant)
    programme_id = request.POST.get("programme") or request.GET.get("programme")
    programme = programmes.filter(pk=programme_id).first() if str(programme_id or "").isdigit() else None
    if programme is None:
        eligible = set(applicant.target_groups)
        choices = [{"programme": p, "eligible": bool(eligible & set(p.target_groups))} for p in programmes]
        return render(
            request,
            "grants/application_programme.html",
            {"applicant": applicant, "choices": choices, "for_someone_else": applicant.user_id != user.pk},
        )
    return _application_form(request, applicant=applicant, programme=programme)


@login_required
def application_edit(request, pk):
    application = visible_application(request.user, pk)
    deny(permissions.can_edit_application(request.user, application))
    return _application_form(
        request, applicant=application.applicant, programme=application.programme, application=application
    )


def _item_initial(application):
    if application is None:
        return []
    return [
        {
            "id": item.pk,
            "description": item.description,
            "quantity": item.quantity,
            "unit_cost": item.unit_cost,
        }
        for item in application.items.order_by("position", "id")
    ]


def _application_form(request, *, applicant, programme, application=None):
    """Create or edit a draft with its equipment rows. "Add a row" works without
    JavaScript: it re-shows the form with one more empty row and saves nothing."""
    user = request.user
    status = 200
    errors = []
    if request.method == "POST":
        if "add_row" in request.POST:
            form = ApplicationForm(
                initial={name: request.POST.get(name, "") for name in ApplicationForm.base_fields}
            )
            formset = ItemFormSet(initial=_rows_from_post(request.POST), prefix="items")
            formset.extra = 1
            return _render_form(request, form, formset, applicant, programme, application, [], 200)
        form = ApplicationForm(request.POST)
        formset = ItemFormSet(request.POST, prefix="items")
        if form.is_valid() and formset.is_valid():
            try:
                if application is None:
                    application = services.create_application(
                        by=user,
                        applicant=applicant,
                        programme=programme,
                        business_name=form.cleaned_data["business_name"],
                        sector=form.cleaned_data["sector"],
                        plan=form.plan(),
                        items=formset.items(),
                    )
                else:
                    services.update_draft(
                        application=application,
                        by=user,
                        business_name=form.cleaned_data["business_name"],
                        sector=form.cleaned_data["sector"],
                        plan=form.plan(),
                        items=formset.items(),
                    )
            except NotVisible:
                raise Http404 from None
            except ServiceError as exc:
                errors, status = error_messages(exc), exc.status
            else:
                messages.success(request, _("Saved. Check the list below, then send the application."))
                return redirect("application-detail", pk=application.pk)
        else:
            status = 400
    else:
        if application is None:
            form = ApplicationForm(initial={"jobs_planned": 1})
            formset = ItemFormSet(initial=[], prefix="items")
            formset.extra = 1
        else:
            form = ApplicationForm(
                initial={
                    "business_name": application.business_name,
                    "sector": application.sector,
                    "activity": application.activity,
                    "market": application.market,
                    "experience": application.experience,
                    "expected_monthly_revenue": application.expected_monthly_revenue,
                    "expected_monthly_costs": application.expected_monthly_costs,
                    "jobs_planned": application.jobs_planned,
                }
            )
            item_initial = _item_initial(application)
            formset = ItemFormSet(initial=item_initial, prefix="items")
            formset.extra = 0 if item_initial else 1
    return _render_form(request, form, formset, applicant, programme, application, errors, status)


def _rows_from_post(data, prefix="items"):
    """The rows typed so far, without those marked for removal and those left blank."""
    try:
        total = min(int(data.get(f"{prefix}-TOTAL_FORMS", 0)), 50)
    except ValueError:
        total = 0
    rows = []
    for i in range(total):
        key = f"{prefix}-{i}-"
        if data.get(key + "DELETE"):
            continue
        row = {name: data.get(key + name, "") for name in ("id", "description", "quantity", "unit_cost")}
        if row["description"] or row["quantity"] or row["unit_cost"]:
            rows.append(row)
    return rows


def _render_form(request, form, formset, applicant, programme, application, errors, status):
    return render(
        request,
        "grants/application_form.html",
        {
            "form": form,
            "formset": formset,
            "applicant": applicant,
            "programme": programme,
            "application": application,
            "errors": errors,
            "for_someone_else": applicant.user_id != request.user.pk,
        },
        status=status,
    )


# ---- the application page ----------------------------------------------------------------


def _is_own_view(user, application):
    return permissions.is_own(user, application) and not roles.is_staff_member(user)


def _transition_rows(application, user):
    """Steps this user may take now, and steps their role could take but a rule (or the
    four-eyes principle) blocks, with the sentence that says why."""
    rows = []
    for row in services.available_transitions(application, user):
        meta = permissions.transition_meta(row["name"])
        permission = meta.get_transition(application.state).permission
        if row["allowed"] or user.has_perm(permission):
            rows.append(
                {
                    **row,
                    "label": TRANSITION_LABELS.get(row["name"], row["name"]),
                    "danger": row["name"] in ENDING_TRANSITIONS,
                }
            )
    return rows


def _upload_kinds(user, application):
    return [kind for kind in DocumentKind.values if documents.can_upload(user, application, kind)]


def _diagram(state):
    """The workflow diagram (grants.diagram), when that module is present."""
    try:
        from ..diagram import workflow_svg
    except ImportError:
        return ""
    return workflow_svg(current_state=state)


def _documents(user, application):
    documents = application.documents.select_related("uploaded_by").order_by("-created_at", "-id")
    return permissions.visible_documents(user, application, documents)


def _items(application):
    return application.items.annotate(
        delivered=Coalesce(Sum("delivery_lines__quantity"), Value(0), output_field=IntegerField())
    ).order_by("position", "id")


def _detail_context(request, application, *, transition_form=None, document_form=None, errors=()):
    user = request.user
    applicant = application.applicant
    own_view = _is_own_view(user, application)
    sensitive_ok = sensitivity.can_see_sensitive(user, applicant)
    kinds = _upload_kinds(user, application)
    transitions = _transition_rows(application, user)
    context = {
        "application": application,
        "applicant": applicant,
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
    events = selectors.history_for(user, application).select_related("actor")
    enrolment = application.enrolments.filter(active=True).select_related("cohort").first()
    if enrolment is not None:
        enrolment.application = application
    training_completed = enrolment.is_completed() if enrolment else False
    context["training_completed"] = training_completed
    context["can_get_certificate"] = (
        training_completed and certificates.can_get_certificate(user, application).allowed
    )
    if own_view:
        context["timeline"] = timeline.for_applicant(events, user.pk)
        context["next_step"] = NEXT_STEP.get(application.state, "")
        return context
    is_officer = roles.has_role(user, roles.FIELD_OFFICER) and not permissions.is_party(user, application)
    assessment = assessment_selectors.current_assessment(application)
    sensitive = None
    if sensitive_ok and request.GET.get("show") == "sensitive":
        sensitive = privacy.sensitive_section(user, applicant)
    in_assessment = application.state in (State.SUBMITTED, State.BUSINESS_TRAINING)
    context.update(
        {
            "history": [
                {
                    "event": e,
                    "label": timeline.label(e.action),
                    "actor": timeline.actor_name(e),
                    "from_state": STATE_LABELS.get(e.from_state, e.from_state),
                    "to_state": STATE_LABELS.get(e.to_state, e.to_state),
                }
                for e in events
            ],
            "enrolment": enrolment,
            "attendance_percent": round(enrolment.attendance_share() * 100) if enrolment else None,
            "assessment": assessment,
            "scores": [
                {"label": criterion_label(score.criterion), "score": score.score}
                for score in sorted(
                    assessment.scores.all(), key=lambda s: (s.criterion.position, s.criterion_id)
                )
            ]
            if assessment
            else [],
            "deliveries": application.deliveries.prefetch_related(
                Prefetch("lines", queryset=DeliveryLine.objects.select_related("item"))
            ).order_by("delivered_on", "id"),
            "visits": application.visits.order_by("due_on", "id"),
            "can_see_sensitive": sensitive_ok,
            "sensitive": sensitive,
            "can_assess": is_officer and in_assessment and user.has_perm("assessments.add_assessment"),
            "can_enrol": is_officer and in_assessment,
            "cohorts": assessment_selectors.cohorts_for(user).filter(
                programme=application.programme_id, centre=application.centre_id
            )
            if is_officer and in_assessment
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
        }
    )
    return context


def render_detail(request, application, *, status=200, **kwargs):
    template = (
        "grants/application_mine_detail.html"
        if _is_own_view(request.user, application)
        else "grants/application_detail.html"
    )
    return render(request, template, _detail_context(request, application, **kwargs), status=status)


@login_required
def application_detail(request, pk):
    application = visible_application(request.user, pk)
    return render_detail(request, application)


@login_required
@require_POST
def application_transition(request, pk):
    user = request.user
    application = visible_application(user, pk)
    form = TransitionForm(request.POST, for_applicant=_is_own_view(user, application))
    name = request.POST.get("transition", "")
    if not form.is_valid():
        return render_detail(request, application, transition_form=form, status=400)
    try:
        application = services.take_transition(
            application=application, name=name, by=user, comment=form.cleaned_data["comment"]
        )
    except NotVisible:
        raise Http404 from None
    except ServiceError as exc:
        application = visible_application(user, pk)
        return render_detail(
            request, application, transition_form=form, errors=error_messages(exc), status=exc.status
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
    officer = (
        selectors.field_officers_of(application.centre_id).filter(pk=request.POST.get("officer") or 0).first()
    )
    if officer is None:
        messages.error(request, _("Choose a field officer of the application's centre."))
        return redirect("application-detail", pk=pk)
    try:
        services.reassign_application(application=application, officer=officer, by=user)
    except NotVisible:
        raise Http404 from None
    messages.success(
        request,
        _("The application is now with %(name)s.") % {"name": officer.get_full_name() or officer.username},
    )
    return redirect("application-detail", pk=pk)


# ---- documents ---------------------------------------------------------------------------


@login_required
@require_POST
def document_upload(request, pk):
    user = request.user
    application = visible_application(user, pk)
    kinds = _upload_kinds(user, application)
    if not kinds:
        deny(documents.can_upload(user, application, DocumentKind.OTHER))
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
        except NotVisible:
            raise Http404 from None
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
    deny(permissions.can_view_document(user, document))
    try:
        documents.record_download(document=document, by=user)
    except NotVisible:
        raise Http404 from None
    return serve_document(document)
