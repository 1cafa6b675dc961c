"""The report pages. The dashboard for managers, finance and auditors: the programme
figures as numbers and bars, per programme, centre, country or target group, and quarter
by quarter (aggregates only: no personal data). The finance budget page: each
programme's budget, committed, delivered and left."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants import roles
from applicants.roles import role_required
from complaints.selectors import MIN_COUNT, complaint_register
from core.errors import require
from grants import permissions, selectors
from grants.forms import DashboardFilterForm

from . import charts
from . import figures as reports

FIGURES = {
    "enterprises_supported": _("Enterprises supported"),
    "cooperatives_supported": _("Cooperatives supported"),
    "families_with_non_cash_benefits": _("Families with non-cash benefits"),
    "people_trained": _("People trained"),
    "investment_eur": _("Investment (EUR)"),
    "survival_rate_12m": _("Businesses operating after 12 months"),
    "jobs_created": _("Jobs"),
}
BREAKDOWN_LABELS = {
    "programme": _("Per programme"),
    "centre": _("Per centre"),
    "country": _("Per country"),
    "target_group": _("Per target group"),
}


@role_required(roles.PROGRAMME_MANAGER, roles.FINANCE_OFFICER, roles.AUDITOR)
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
    by = request.GET.get("by") if request.GET.get("by") in BREAKDOWN_LABELS else "programme"
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
            "by_label": BREAKDOWN_LABELS[by],
            "can_export_lines": reports.can_export_lines(user).allowed,
            "impact_query": urlencode({**filters.as_params(), "by": by}),
            "breakdowns": BREAKDOWN_LABELS,
            "breakdown": breakdown,
            "breakdown_bars": charts.bars(breakdown, figure),
            "period_bars": charts.bars(periods, figure),
            "periods": periods,
            "min_group_size": None if reports.sees_small_groups(user) else reports.MIN_GROUP_SIZE,
            "any_withheld": any(row["withheld"] for row in [totals, *breakdown, *periods]),
            "register": complaint_register(user, date_from=filters.date_from, date_to=filters.date_to),
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
