"""A programme's indicators against their targets (docs/reports.md, "Indicators").

Each indicator's achieved value is one figure of `reports.figures.impact_figures` for
the programme and the period (`Indicator.definition` names the figure): the progress
page, the API and the donor report read it from the same computation, so they agree.
A year's figures come from `impact_by_period` (six queries whatever the number of
years); figures of fewer than MIN_GROUP_SIZE people are withheld as everywhere else."""

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from applicants.facts import sex_groups
from core.errors import NotVisible, ServiceError
from core.money import cents

from . import figures as reports
from .models import Definition

# The unit each definition's figure is in (baseline and targets are in it too).
UNITS = {
    Definition.INVESTMENT_EUR: "eur",
    Definition.SURVIVAL_12M: "share",
}


def unit_of(definition):
    return UNITS.get(definition, "count")


def year_period(year):
    return (datetime.date(year, 1, 1), datetime.date(year, 12, 31))


def programme_in_scope(user, programme_id):
    """The programme if `user` reports on it (its country is one of their centres'),
    else NotVisible."""
    programme = reports.reportable_programmes(user).filter(pk=programme_id).first()
    if programme is None:
        raise NotVisible()
    return programme


def parse_programme(params):
    raw = params.get("programme")
    if raw in (None, ""):
        message = _("programme: required.")
        raise ServiceError(message, details={"programme": [message]})
    return reports.ReportFilters.from_params({"programme": raw}).programme


def parse_year(params):
    raw = params.get("year")
    if raw in (None, ""):
        return None
    if not str(raw).isdigit() or not 2000 <= int(raw) <= 2100:
        message = _("year: a year from 2000 to 2100.")
        raise ServiceError(message, details={"year": [message]})
    return int(raw)


def _achieved(row, definition):
    if row is None:
        return None
    return row.get(str(definition))


def _share(achieved, target):
    """Achieved as a share of the target (3 places), None without both."""
    if achieved is None or target in (None, 0):
        return None
    return (Decimal(str(achieved)) / target).quantize(Decimal("0.001"))


def indicator_progress(user, programme, periods=None, *, withhold=None):
    """The programme's indicators, each with its baseline and `progress`: for each
    period of `periods` ([(first day, last day)]; default: the years it has targets
    for), the target (where the period is a calendar year with one) and the achieved
    value. `withhold(rows)` withholds small groups from the per-period figure rows
    (default: as `user` may read them)."""
    withhold = withhold or (lambda rows: reports.withhold_small_groups(user, rows, complementary=True))
    indicators = list(programme.indicators.prefetch_related("targets"))
    if periods is None:
        years = sorted({target.year for indicator in indicators for target in indicator.targets.all()})
        periods = [year_period(year) for year in years]
    periods = sorted(set(periods))
    filters = reports.ReportFilters(programme=programme.pk)
    by_period = reports.impact_by_period(user, filters, periods) if periods and indicators else {}
    rows = withhold([{"period": period, **by_period[period]} for period in periods if period in by_period])
    figures_of = {row["period"]: row for row in rows}
    by_sex = _achieved_by_sex(user, programme, indicators, periods, withhold)
    result = []
    for indicator in indicators:
        targets = {(t.year, t.sex): t.value for t in indicator.targets.all()}
        progress = []
        for start, end in periods:
            year = start.year if (start, end) == year_period(start.year) else None
            row = figures_of.get((start, end))
            progress.append(_entry(start, end, year, "", targets, row, indicator.definition))
            for sex in sorted(sex for (target_year, sex) in targets if sex and target_year == year):
                row = by_sex.get((year, sex))
                progress.append(_entry(start, end, year, sex, targets, row, indicator.definition))
        result.append(
            {
                "id": indicator.pk,
                "code": indicator.code,
                "name": {"en": indicator.name_en, "sr-latn": indicator.name_sr_latn, "sq": indicator.name_sq},
                "definition": indicator.definition,
                "definition_label": Definition(indicator.definition).label,
                "unit": unit_of(indicator.definition),
                "baseline": indicator.baseline,
                "progress": progress,
            }
        )
    return result


def _entry(start, end, year, sex, targets, row, definition):
    achieved = _achieved(row, definition)
    target = targets.get((year, sex)) if year else None
    return {
        "from": start,
        "to": end,
        "year": year,
        "sex": sex,
        "sex_label": dict(sex_groups()).get(sex, sex) if sex else "",
        "target": target,
        "achieved": achieved,
        "share_of_target": _share(achieved, target),
        "withheld": definition in (row or {}).get("withheld", ()),
        "small": definition in (row or {}).get("below_threshold", ()),
    }


def _achieved_by_sex(user, programme, indicators, periods, withhold):
    """{(year, sex): figures} for the years of `periods` some indicator has a target by
    sex for: the breakdown by sex of that year (`reports.figures.breakdown`), its rows
    withheld together (they are the parts of one total)."""
    years = {start.year for start, end in periods if (start, end) == year_period(start.year)}
    wanted = sorted(
        {t.year for indicator in indicators for t in indicator.targets.all() if t.sex and t.year in years}
    )
    result = {}
    for year in wanted:
        start, end = year_period(year)
        filters = reports.ReportFilters(programme=programme.pk, date_from=start, date_to=end)
        for row in withhold(reports.breakdown(user, filters, ("sex",))):
            result[(year, row["key"])] = row
    return result


def value_json(value, unit):
    """A figure, target or baseline as the API writes it: EUR as a string with two
    places, shares and targets with three, counts as whole numbers when whole."""
    if value is None:
        return None
    if unit == "eur":
        return str(cents(Decimal(str(value))))
    value = Decimal(str(value))
    if unit == "share":
        return str(value.quantize(Decimal("0.001")))
    return int(value) if value == value.to_integral_value() else str(value)


def progress_json(rows):
    out = []
    for row in rows:
        unit = row["unit"]
        out.append(
            {
                **{k: row[k] for k in ("id", "code", "name", "definition", "unit")},
                "baseline": value_json(row["baseline"], unit),
                "progress": [
                    {
                        "from": p["from"].isoformat(),
                        "to": p["to"].isoformat(),
                        "year": p["year"],
                        "sex": p["sex"],
                        "target": value_json(p["target"], unit),
                        "achieved": value_json(p["achieved"], unit),
                        "share_of_target": None
                        if p["share_of_target"] is None
                        else str(p["share_of_target"]),
                        "withheld": p["withheld"],
                    }
                    for p in row["progress"]
                ],
            }
        )
    return out
