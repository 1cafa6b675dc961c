"""What field officers record in the web interface: training cohorts with their
attendance sheet, enrolment, the assessment with the programme's rubric, and the
monitoring visits."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applicants import roles
from applicants.roles import role_required
from applicants.selectors import applicants_for, centres_for
from core.errors import ServiceError
from core.web import PAGE_SIZE, error_messages, page_number, paginate
from grants import selectors as grant_selectors
from grants.forms import TransitionForm
from grants.views.common import visible_application
from grants.workflow import State, passes_mark

from . import certificates, selectors, services
from .forms import (
    AssessmentForm,
    CohortChoiceForm,
    CohortForm,
    DirectEnrolForm,
    EnrolForm,
    HeadcountForm,
    MeetingForm,
    SessionFormSet,
    VisitForm,
)
from .models import Assessment

IN_ASSESSMENT = (State.SUBMITTED, State.BUSINESS_TRAINING)


def _cohort(user, pk):
    cohort = selectors.cohorts_for(user).select_related("programme", "centre").filter(pk=pk).first()
    if cohort is None:
        raise Http404
    return cohort


RECOMMENDATIONS = dict(Assessment.Recommendation.choices)


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def cohort_list(request):
    page = paginate(request, selectors.cohorts_for(request.user).select_related("programme", "centre"))
    return render(request, "assessments/cohort_list.html", {"page": page})


@role_required(roles.FIELD_OFFICER)
def cohort_new(request):
    user = request.user
    programmes = grant_selectors.programmes_for(user).order_by("name")
    centres = centres_for(user).order_by("name")
    errors = []
    status = 200
    if request.method == "POST" and "add_row" in request.POST:
        form = CohortForm(
            initial={k: request.POST.get(k, "") for k in ("title", "programme", "centre")},
            programmes=programmes,
            centres=centres,
        )
        dates = _dates_from_post(request.POST)
        formset = SessionFormSet(initial=[{"date": d} for d in dates], prefix="sessions")
        formset.extra = 1
    elif request.method == "POST":
        form = CohortForm(request.POST, programmes=programmes, centres=centres)
        formset = SessionFormSet(request.POST, prefix="sessions")
        if form.is_valid() and formset.is_valid():
            try:
                cohort = services.create_cohort(
                    by=user,
                    programme=form.cleaned_data["programme"],
                    centre=form.cleaned_data["centre"],
                    title=form.cleaned_data["title"],
                    session_dates=formset.dates(),
                )
            except ServiceError as exc:
                errors, status = error_messages(exc), exc.status
            else:
                messages.success(request, _("The course is created. Now enrol the participants."))
                return redirect("cohort-detail", pk=cohort.pk)
        else:
            status = 400
    else:
        form = CohortForm(programmes=programmes, centres=centres)
        formset = SessionFormSet(prefix="sessions")
        formset.extra = 5
    return render(
        request,
        "assessments/cohort_form.html",
        {"form": form, "formset": formset, "errors": errors},
        status=status,
    )


def _dates_from_post(data):
    try:
        total = min(int(data.get("sessions-TOTAL_FORMS", 0)), 60)
    except ValueError:
        total = 0
    return [data[f"sessions-{i}-date"] for i in range(total) if data.get(f"sessions-{i}-date")]


def _enrol_candidates(user, cohort):
    return (
        grant_selectors.application_list(
            user, state=",".join(IN_ASSESSMENT), programme=cohort.programme_id, centre=cohort.centre_id
        )
        .select_related("programme", "applicant", "centre")
        .exclude(enrolments__cohort=cohort, enrolments__active=True)
        .order_by("applicant__last_name", "id")
    )


def _direct_candidates(user, cohort):
    """Registered people of the cohort's centre not enrolled in it directly: whom an
    officer may enrol without a grant application."""
    return (
        applicants_for(user)
        .filter(centre_id=cohort.centre_id)
        .exclude(direct_enrolments__cohort=cohort, direct_enrolments__active=True)
        .order_by("last_name", "first_name", "id")
    )


def _cohort_page(
    request, cohort, *, enrol_form=None, direct_form=None, headcount_form=None, errors=(), status=200
):
    user = request.user
    sessions, rows = selectors.attendance_sheet(cohort)
    for row in rows:
        row["cells"] = [
            {
                "session": s,
                "present": bool(row["marks"].get(s.pk)),
                "name": f"present-{row['enrolment'].pk}-{s.pk}",
            }
            for s in sessions
        ]
    is_officer = roles.has_role(user, roles.FIELD_OFFICER)
    candidates = list(_enrol_candidates(user, cohort)[:200]) if is_officer else []
    people = list(_direct_candidates(user, cohort)[:200]) if is_officer else []
    anonymous = cohort.programme.anonymous_training
    held = [s for s in sessions if s.date <= timezone.localdate()]
    headcounts = selectors.headcounts_of(cohort) if anonymous else {}
    return render(
        request,
        "assessments/cohort_detail.html",
        {
            "cohort": cohort,
            "sessions": sessions,
            "rows": rows,
            "is_officer": is_officer,
            "direct_form": direct_form or (DirectEnrolForm(applicants=people) if people else None),
            "anonymous": anonymous,
            "headcounts": [(s, headcounts.get(s.pk, [])) for s in sessions] if anonymous else [],
            "headcount_form": (
                headcount_form or HeadcountForm(sessions=held, bands=selectors.age_bands_of(cohort.programme))
            )
            if anonymous and is_officer and held
            else None,
            "enrol_form": enrol_form or (EnrolForm(applications=candidates) if candidates else None),
            "errors": list(errors),
            "threshold_percent": round(cohort.programme.training_threshold * 100),
        },
        status=status,
    )


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def cohort_detail(request, pk):
    cohort = _cohort(request.user, pk)
    return _cohort_page(request, cohort)


@role_required(roles.FIELD_OFFICER)
@require_POST
def attendance_save(request, pk):
    """The whole sheet in one form: only the marks that changed are written, all of them
    in one transaction."""
    user = request.user
    cohort = _cohort(user, pk)
    sessions, rows = selectors.attendance_sheet(cohort)
    changed = 0
    try:
        with transaction.atomic():
            for row in rows:
                for session in sessions:
                    wanted = f"present-{row['enrolment'].pk}-{session.pk}" in request.POST
                    current = row["marks"].get(session.pk)
                    if current is None and not wanted or current == wanted:
                        continue
                    who = (
                        {"application": row["application"]}
                        if row["application"] is not None
                        else {"applicant": row["person"]}
                    )
                    services.record_attendance(by=user, session=session, present=wanted, **who)
                    changed += 1
    except ServiceError as exc:
        return _cohort_page(request, cohort, errors=error_messages(exc), status=exc.status)
    messages.success(request, _("Attendance saved (%(count)s changes).") % {"count": changed})
    return redirect("cohort-detail", pk=pk)


@role_required(roles.FIELD_OFFICER)
@require_POST
def cohort_enrol(request, pk):
    user = request.user
    cohort = _cohort(user, pk)
    candidates = list(_enrol_candidates(user, cohort)[:200])
    form = EnrolForm(request.POST, applications=candidates)
    if not form.is_valid():
        return _cohort_page(request, cohort, enrol_form=form, status=400)
    application = visible_application(user, form.cleaned_data["application"])
    try:
        services.enrol(by=user, cohort=cohort, application=application)
    except ServiceError as exc:
        return _cohort_page(request, cohort, enrol_form=form, errors=error_messages(exc), status=exc.status)
    messages.success(request, _("%(name)s is enrolled.") % {"name": application.applicant.full_name})
    return redirect("cohort-detail", pk=pk)


@role_required(roles.FIELD_OFFICER)
@require_POST
def cohort_enrol_person(request, pk):
    """Enrol a registered person without a grant application (training as a service)."""
    user = request.user
    cohort = _cohort(user, pk)
    form = DirectEnrolForm(request.POST, applicants=list(_direct_candidates(user, cohort)[:200]))
    if not form.is_valid():
        return _cohort_page(request, cohort, direct_form=form, status=400)
    person = applicants_for(user).get(pk=form.cleaned_data["applicant"])
    try:
        services.enrol_applicant(by=user, cohort=cohort, applicant=person)
    except ServiceError as exc:
        return _cohort_page(request, cohort, direct_form=form, errors=error_messages(exc), status=exc.status)
    messages.success(request, _("%(name)s is enrolled.") % {"name": person.full_name})
    return redirect("cohort-detail", pk=pk)


@role_required(roles.FIELD_OFFICER)
@require_POST
def cohort_headcount(request, pk):
    """Participants of one session counted without names, by sex and age band, where the
    programme allows it; nothing is saved unless every count is right."""
    user = request.user
    cohort = _cohort(user, pk)
    held = [s for s in cohort.sessions.all() if s.date <= timezone.localdate()]
    form = HeadcountForm(request.POST, sessions=held, bands=selectors.age_bands_of(cohort.programme))
    if not form.is_valid():
        return _cohort_page(request, cohort, headcount_form=form, status=400)
    session = next(s for s in held if s.pk == form.cleaned_data["session"])
    try:
        services.record_headcount(
            by=user, session=session, counts=form.counts(), total=form.cleaned_data["total"]
        )
    except ServiceError as exc:
        return _cohort_page(
            request, cohort, headcount_form=form, errors=error_messages(exc), status=exc.status
        )
    messages.success(request, _("The participants are counted."))
    return redirect("cohort-detail", pk=pk)


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def enrolment_certificate(request, pk):
    """The neutral certificate of someone trained without a grant application."""
    enrolment = selectors.direct_enrolment(request.user, pk)
    if enrolment is None:
        raise Http404
    try:
        name, pdf = certificates.direct_certificate(by=request.user, enrolment=enrolment)
    except ServiceError as exc:
        for message in error_messages(exc):
            messages.error(request, message)
        return redirect("cohort-detail", pk=enrolment.cohort_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def meeting_list(request):
    page = paginate(request, selectors.meetings_for(request.user))
    return render(
        request,
        "assessments/meeting_list.html",
        {"page": page, "is_officer": roles.has_role(request.user, roles.FIELD_OFFICER)},
    )


@role_required(roles.FIELD_OFFICER)
def meeting_new(request):
    user = request.user
    programmes = grant_selectors.programmes_for(user).order_by("name")
    centres = centres_for(user).order_by("name")
    errors, status = [], 200
    if request.method == "POST":
        form = MeetingForm(request.POST, programmes=programmes, centres=centres)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_meeting(by=user, **data)
            except ServiceError as exc:
                errors, status = error_messages(exc), exc.status
            else:
                messages.success(request, _("The meeting is recorded."))
                return redirect("meeting-list")
        else:
            status = 400
    else:
        form = MeetingForm(programmes=programmes, centres=centres)
    return render(request, "assessments/meeting_form.html", {"form": form, "errors": errors}, status=status)


@role_required(roles.FIELD_OFFICER)
@require_POST
def application_enrol(request, pk):
    """Enrol from the application page: choose one of the centre's courses."""
    user = request.user
    application = visible_application(user, pk)
    cohorts = selectors.cohorts_for(user).filter(
        programme=application.programme_id, centre=application.centre_id
    )
    form = CohortChoiceForm(request.POST, cohorts=cohorts)
    if not form.is_valid():
        messages.error(request, _("Choose one of the training courses listed."))
        return redirect("application-detail", pk=pk)
    cohort = _cohort(user, form.cleaned_data["cohort"])
    try:
        services.enrol(by=user, cohort=cohort, application=application)
    except ServiceError as exc:
        for message in error_messages(exc):
            messages.error(request, message)
        return redirect("application-detail", pk=pk)
    messages.success(request, _("Enrolled in “%(course)s”.") % {"course": cohort.title})
    return redirect("application-detail", pk=pk)


@role_required(roles.FIELD_OFFICER)
def assessment_form(request, pk):
    user = request.user
    application = visible_application(user, pk)
    rubric = application.programme.rubric.order_by("position", "id")
    current = selectors.current_assessment(application)
    errors = []
    status = 200
    if request.method == "POST":
        form = AssessmentForm(request.POST, rubric=rubric)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_assessment(
                    by=user,
                    application=application,
                    scores=form.scores(),
                    recommendation=data["recommendation"],
                    reasons=data["reasons"],
                    site_visit_on=data["site_visit_on"],
                    notes=data["notes"],
                )
            except ServiceError as exc:
                errors, status = error_messages(exc), exc.status
            else:
                messages.success(request, _("The assessment is saved."))
                return redirect("application-detail", pk=pk)
        else:
            status = 400
    else:
        initial = {}
        if current is not None:
            initial = {
                "site_visit_on": current.site_visit_on,
                "notes": current.notes,
                "recommendation": current.recommendation,
                "reasons": current.reasons,
                **{f"score_{s.criterion.criterion}": s.score for s in current.scores.all()},
            }
        form = AssessmentForm(rubric=rubric, initial=initial)
    return render(
        request,
        "assessments/assessment_form.html",
        {"application": application, "form": form, "errors": errors, "current": current},
        status=status,
    )


@role_required(roles.FIELD_OFFICER)
def visit_form(request, pk):
    user = request.user
    visit = (
        selectors.visits_for(user)
        .select_related("application__applicant", "application__programme")
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404
    application = visit.application
    errors = []
    status = 200
    if request.method == "POST":
        try:
            services.check_visit_request_size(request.META.get("CONTENT_LENGTH"))
        except ServiceError as exc:
            form = VisitForm()
            errors, status = error_messages(exc), exc.status
        else:
            form = VisitForm(request.POST, request.FILES)
        if status == 200 and form.is_valid():
            data = form.cleaned_data
            try:
                services.record_visit(
                    by=user,
                    visit=visit,
                    visited_on=data["visited_on"],
                    operating=data["operating"],
                    equipment_in_use=data["equipment_in_use"],
                    monthly_revenue=data["monthly_revenue"],
                    jobs={
                        "owner": data["jobs_owner"],
                        "family": data["jobs_family"],
                        "employees": data["jobs_employees"],
                    },
                    notes=data["notes"],
                    photos=data["photos"],
                )
            except ServiceError as exc:
                errors, status = error_messages(exc), exc.status
            else:
                messages.success(request, _("The visit is recorded."))
                return redirect("application-detail", pk=application.pk)
        elif status == 200:
            status = 400
    else:
        initial = {}
        if visit.visited_on:
            initial = {
                "visited_on": visit.visited_on,
                "operating": "yes" if visit.operating else "no",
                "equipment_in_use": "yes" if visit.equipment_in_use else "no",
                "monthly_revenue": visit.monthly_revenue,
                "jobs_owner": visit.jobs_owner,
                "jobs_family": visit.jobs_family,
                "jobs_employees": visit.jobs_employees,
                "notes": visit.notes,
            }
        form = VisitForm(initial=initial)
    return render(
        request,
        "assessments/visit_form.html",
        {"visit": visit, "application": application, "form": form, "errors": errors},
        status=status,
    )


@role_required(roles.PROGRAMME_MANAGER)
def approvals(request):
    """Training completed and assessed: approve or reject, with the budget left beside
    each. The buttons post to the application's transition view, which applies every
    rule (four eyes, budget, pass mark) and comes back here."""
    user = request.user
    # Not counted: counting checks the training rule of every application in training,
    # the page only of those up to its last row (README "Performance").
    page = selectors.approvals_page(user, page_number(request), per_page=PAGE_SIZE)
    for application in page:
        application.own_assessment = application.assessor_id == user.pk
        application.recommendation_label = RECOMMENDATIONS.get(application.recommendation, "")
        application.budget_short = application.budget_left < application.requested_total
        application.passes = bool(application.assessment_complete) and passes_mark(
            application.weighted_score, application.programme.pass_mark
        )
    return render(request, "grants/approvals_queue.html", {"page": page, "form": TransitionForm()})
