"""The report pages. The dashboard for managers, finance and auditors: the programme
figures as numbers and bars, per programme, centre, country or target group, and quarter
by quarter (aggregates only: no personal data). The finance budget page: each
programme's budget, committed, delivered and left."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from applicants import roles
from applicants.roles import role_required
from complaints.selectors import MIN_COUNT, complaint_register
from core.errors import ServiceError, require
from grants import permissions, selectors
from grants.forms import DashboardFilterForm

from . import charts, indicators, services
from . import figures as reports
from .forms import DonorReportForm, ProgrammeForm
from .models import DonorReport

FIGURES = {
    "enterprises_supported": _("Enterprises supported"),
    "cooperatives_supported": _("Cooperatives supported"),
    "families_with_non_cash_benefits": _("Families with non-cash benefits"),
    "people_trained": _("People trained"),
    "investment_eur": _("Investment (EUR)"),
    "survival_rate_12m": _("Businesses operating after 12 months"),
    "jobs_created": _("Jobs"),
    "institutions_supported": _("Institutions supported"),
}
BREAKDOWN_LABELS = {
    "programme": _("Per programme"),
    "centre": _("Per centre"),
    "country": _("Per country"),
    "target_group": _("Per target group"),
    "sex": _("Per sex"),
    "age_band": _("Per age band"),
    "disability": _("Per disability"),
    "municipality": _("Per municipality"),
}


def _breakdown_choice(raw):
    """The dashboard's `by`: one group or two crossed (`reports.parse_breakdown`); per
    programme when missing or not understood."""
    try:
        return reports.parse_breakdown(raw) or "programme"
    except ServiceError:
        return "programme"


@role_required(roles.PROGRAMME_MANAGER, roles.FINANCE_OFFICER, roles.AUDITOR, roles.MNE_OFFICER)
def dashboard(request):
    user = request.user
    require(reports.can_view_reports(user))
    centres, programmes, _currencies = selectors.filter_choices(user)
    form = DashboardFilterForm(request.GET or None, programmes=programmes, centres=centres)
    filters = reports.NO_FILTERS
    if form.is_valid():
        data = form.cleaned_data
        filters = reports.ReportFilters(
            programme=data["programme"],
            centre=data["centre"],
            target_group=data["target_group"] or None,
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
    by = _breakdown_choice(request.GET.get("by"))
    by_first, *by_second = by.split(",")
    figure = request.GET.get("figure") if request.GET.get("figure") in FIGURES else "enterprises_supported"

    report = reports.impact_report(user, filters, by)
    totals, breakdown = report["totals"], report["breakdown"]
    quarters = []
    for label, start, end in charts.quarters(timezone.localdate()):
        if (filters.date_from and end < filters.date_from) or (filters.date_to and start > filters.date_to):
            continue
        start = max(start, filters.date_from) if filters.date_from else start
        end = min(end, filters.date_to) if filters.date_to else end
        quarters.append((label, (start, end)))
    figures_by_quarter = reports.impact_by_period(user, filters, [period for _label, period in quarters])
    periods = reports.withhold_small_groups(
        user,
        [{"label": label, **figures_by_quarter[period]} for label, period in quarters],
        complementary=True,
    )
    training_service = reports.training_service_report(user, filters)
    return render(
        request,
        "grants/dashboard.html",
        {
            "form": form,
            "totals": totals,
            "figures": FIGURES,
            "figure": figure,
            "figure_label": FIGURES[figure],
            "by": by,
            "by_label": BREAKDOWN_LABELS[by]
            if by in BREAKDOWN_LABELS
            else " × ".join(str(reports.DIMENSION_LABELS[name]) for name in by.split(",")),
            "by_first": by_first,
            "by_second": by_second[0] if by_second else "",
            "crossings": [
                (f"{by_first},{name}", label)
                for name, label in reports.DIMENSION_LABELS.items()
                if name != by_first
            ],
            "can_export_lines": reports.can_export_lines(user).allowed,
            "impact_query": urlencode({**filters.as_params(), "by": by}),
            "breakdowns": BREAKDOWN_LABELS,
            "breakdown": breakdown,
            "breakdown_bars": charts.bars(breakdown, figure),
            "period_bars": charts.bars(periods, figure),
            "periods": periods,
            "min_group_size": None if reports.sees_small_groups(user) else reports.threshold(),
            "any_withheld": any(row["withheld"] for row in [totals, *breakdown, *periods]),
            "register": complaint_register(user, date_from=filters.date_from, date_to=filters.date_to),
            "training_service": training_service,
            "training_tables": [
                (reports.DIMENSION_LABELS[name], training_service[f"by_{name}"])
                for name in reports.TRAINING_DIMENSIONS
            ],
            "training_withheld": any(
                row["withheld"]
                for name in reports.TRAINING_DIMENSIONS
                for row in [*training_service[f"by_{name}"], training_service["total"]]
            ),
            "min_count": MIN_COUNT,
        },
    )


@role_required(roles.FINANCE_OFFICER, roles.PROGRAMME_MANAGER)
def budget(request):
    user = request.user
    require(permissions.can_view_finance(user))
    report = reports.budget_report(user)
    contributions = reports.contributions_by_programme([row["id"] for row in report["results"]])
    for row in report["results"]:
        row.update(contributions[row["id"]])
        row["committed_share"] = _share(row["committed"], row["budget"])
        row["delivered_share"] = _share(row["delivered"], row["budget"])
    return render(
        request,
        "grants/finance_budget.html",
        {"report": report, "suppliers": reports.supplier_variances(user), "can_export_lines": True},
    )


def _share(part, whole):
    """Per cent for the bar, clamped to 0..100."""
    if not whole:
        return 0
    return max(0, min(100, round(part * 100 / whole)))


def _programme_choices(user):
    return [
        (p.pk, str(p.label_for(user))) for p in reports.reportable_programmes(user).order_by("name", "pk")
    ]


@role_required(roles.PROGRAMME_MANAGER, roles.FINANCE_OFFICER, roles.AUDITOR)
def indicator_progress(request):
    """A programme's indicators against their targets, year by year."""
    user = request.user
    require(reports.can_view_reports(user))
    choices = _programme_choices(user)
    form = ProgrammeForm(request.GET or None, programmes=choices)
    rows, programme = [], None
    if form.is_valid():
        programme = indicators.programme_in_scope(user, form.cleaned_data["programme"])
        rows = indicators.indicator_progress(user, programme)
    return render(
        request,
        "reports/indicator_progress.html",
        {
            "form": form,
            "programme": programme,
            "programme_label": programme.label_for(user) if programme else "",
            "indicators": rows,
            "language": get_language(),
            "min_group_size": None if reports.sees_small_groups(user) else reports.MIN_GROUP_SIZE,
        },
    )


@role_required(roles.PROGRAMME_MANAGER, roles.FINANCE_OFFICER, roles.AUDITOR)
def donor_reports(request):
    """The donor reports of the user's programmes, how far each got, and a form to ask
    for one (written in the background)."""
    user = request.user
    require(services.can_read_donor_reports(user))
    choices = _programme_choices(user)
    form = DonorReportForm(
        request.POST or None, programmes=choices, initial={"language": get_language() or "en"}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.request_donor_report(
                by=user,
                programme_id=data["programme"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                language=data["language"],
            )
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The report is being written. This page shows how far it got."))
            return redirect("donor-reports")
    listed = list(services.donor_reports_for(user)[:50])
    return render(
        request,
        "reports/donor_reports.html",
        {
            "form": form,
            "reports": listed,
            "working": any(
                r.status in (DonorReport.Status.QUEUED, DonorReport.Status.RUNNING) for r in listed
            ),
        },
    )


@role_required(roles.PROGRAMME_MANAGER, roles.FINANCE_OFFICER, roles.AUDITOR)
def donor_report_download(request):
    """`?report=ID&format=xlsx|pdf`: a report that is ready, for those who may read it."""
    user = request.user
    require(services.can_read_donor_reports(user))
    raw = request.GET.get("report", "")
    report = services.donor_report_for(user, int(raw)) if raw.isdigit() and int(raw) < 2**31 else None
    if report is None:
        raise Http404
    fmt = request.GET.get("format", "pdf")
    try:
        handle, content_type = services.download_donor_report(report=report, fmt=fmt, by=user)
    except ServiceError as error:
        return HttpResponseBadRequest(error.message)
    name = f"donor-report-{report.programme_id}-{report.date_from:%Y%m%d}-{report.date_to:%Y%m%d}.{fmt}"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
