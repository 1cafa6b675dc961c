"""Applications in the web interface: the inbox, "my applications", and the application
form with its equipment rows ("add a row" works without JavaScript)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applicants import roles, sensitivity
from applicants.institutions import institutions_for
from applicants.roles import role_required
from applicants.selectors import applicants_for
from audit.models import AuditEvent
from core.errors import ServiceError, require
from core.web import error_messages, paginate
from grants import permissions, selectors, services
from grants.forms import ApplicationForm, InboxFilterForm, ItemFormSet
from grants.models import Call, Programme
from grants.views import timeline
from grants.views.common import visible_application
from grants.workflow import State

from . import selectors as casework_selectors

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


@login_required
def home(request):
    """Each role starts where its work is."""
    user = request.user
    for role, target in (
        (roles.FIELD_OFFICER, "inbox"),
        (roles.PROGRAMME_MANAGER, "approvals"),
        (roles.FINANCE_OFFICER, "finance-budget"),
        (roles.AUDITOR, "dashboard"),
        (roles.MNE_OFFICER, "dashboard"),
        (roles.PROCUREMENT_OFFICER, "procurement"),
        (roles.COMMITTEE_MEMBER, "selection-calls"),
        (roles.SAFEGUARDING_FOCAL_POINT, "complaint-list"),
        (roles.APPLICANT, "my-applications"),
    ):
        if roles.has_role(user, role):
            return redirect(target)
    return render(request, "grants/home.html")


# ---- lists -------------------------------------------------------------------------------


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def inbox(request):
    """The officer's and manager's list: at most eight queries whatever the page or the
    data (session, user, two-factor device, permissions, filter choices, count, rows,
    and on the first page an officer's visits due), measured by `make bench` and held by
    tests/test_views_officer.py."""
    user = request.user
    choices = selectors.filter_choices(user)
    centres, programmes = choices.centres, choices.programmes
    form = InboxFilterForm(request.GET or None, programmes=programmes, centres=centres)
    filters = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    page = paginate(request, casework_selectors.inbox_rows(user, filters, today=today))
    _name_centres_and_programmes(page, choices)
    due = []
    # The officer's visits due this week head the list: on its first page only.
    if page.number == 1 and roles.has_role(user, roles.FIELD_OFFICER):
        due = casework_selectors.inbox_visits_due(user)
    return render(
        request,
        "grants/application_inbox.html",
        {"form": form, "page": page, "due_visits": due, "today": today, "several_centres": len(centres) > 1},
    )


def _name_centres_and_programmes(page, choices):
    """Give each row of the page its centre's and programme's names and the currency
    from the filter choices (the user's centres, their countries' programmes); a
    programme from elsewhere, which a consistent database never has, is read."""
    page.object_list = rows = list(page.object_list)
    centres, programmes = dict(choices.centres), dict(choices.programmes)
    currencies = dict(choices.currencies)
    missing = {row.programme_id for row in rows} - programmes.keys()
    if missing:
        for pk, name, currency in Programme.objects.filter(pk__in=missing).values_list(
            "pk", "name", "currency"
        ):
            programmes[pk], currencies[pk] = name, currency
    for row in rows:
        row.centre_name = centres.get(row.centre_id, "")
        row.programme_name = programmes[row.programme_id]
        row.currency = currencies[row.programme_id]


@role_required(roles.APPLICANT)
def my_applications(request):
    user = request.user
    events = AuditEvent.objects.select_related("actor", "free_text").order_by("at", "id")
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


def _institution_for_new(request):
    """The institution chosen (`?institution=`): one of the officer's centres, else 404."""
    raw = request.POST.get("institution") or request.GET.get("institution")
    if raw is None:
        return None
    if not roles.has_role(request.user, roles.FIELD_OFFICER) or not str(raw).isdigit():
        raise Http404
    institution = institutions_for(request.user).filter(pk=int(raw)).first()
    if institution is None:
        raise Http404
    return institution


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


def _open_programmes(user, applicant, institution=None):
    today = timezone.localdate()
    # The call the application would be made in (services.open_call_for): its close.
    open_calls = (
        Call.objects.filter(programme=OuterRef("pk"))
        .open_on(today)
        .covering(applicant.centre_id)
        .order_by("closes", "id")
    )
    programmes = (
        selectors.programmes_for(user)
        .filter(country_id=applicant.centre.country_id)
        .annotate(apply_by=Subquery(open_calls.values("closes")[:1]))
        .filter(apply_by__isnull=False)
        .order_by("name")
    )
    return programmes.filter(allows_institutions=True) if institution is not None else programmes


@login_required
def application_new(request):
    user = request.user
    institution = _institution_for_new(request)
    applicant = institution.contact if institution is not None else _applicant_for_new(request)
    if applicant is None:
        messages.info(request, _("Choose the person the application is for, or register them first."))
        return redirect("applicant-list")
    require(services.can_create_for(user, applicant))
    programmes = _open_programmes(user, applicant, institution)
    programme_id = request.POST.get("programme") or request.GET.get("programme")
    programme = programmes.filter(pk=programme_id).first() if str(programme_id or "").isdigit() else None
    if programme is None:
        # Which programmes the person is eligible for tells their target group: only
        # for those who may see it (the sensitive-facts rule). Anyone else creating the
        # draft becomes its assigned officer, and sees it then.
        if institution is not None:
            # Only programmes that take institutions are listed.
            choices = [{"programme": p, "eligible": True} for p in programmes]
        elif sensitivity.can_see_sensitive(user, applicant):
            groups = set(applicant.target_groups)
            choices = [{"programme": p, "eligible": bool(groups & set(p.target_groups))} for p in programmes]
        else:
            choices = [{"programme": p, "eligible": True} for p in programmes]
        return render(
            request,
            "grants/application_programme.html",
            {
                "applicant": applicant,
                "institution": institution,
                "choices": choices,
                "for_someone_else": applicant.user_id != user.pk,
            },
        )
    return _application_form(request, applicant=applicant, programme=programme, institution=institution)


@login_required
def application_edit(request, pk):
    application = visible_application(request.user, pk)
    require(permissions.can_edit_application(request.user, application))
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


def _application_form(request, *, applicant, programme, application=None, institution=None):
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
            return _render_form(
                request, form, formset, applicant, programme, application, [], 200, institution
            )
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
                        institution=institution,
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
    return _render_form(
        request, form, formset, applicant, programme, application, errors, status, institution
    )


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


def _render_form(request, form, formset, applicant, programme, application, errors, status, institution=None):  # noqa: PLR0913
    return render(
        request,
        "grants/application_form.html",
        {
            "form": form,
            "formset": formset,
            "applicant": applicant,
            "institution": institution or (application.institution if application else None),
            "programme": programme,
            "application": application,
            "errors": errors,
            "for_someone_else": applicant.user_id != request.user.pk,
        },
        status=status,
    )
