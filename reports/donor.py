"""The donor period report (docs/reports.md, "The donor period report"): for a programme
and a period, the indicators against their targets, the figures broken down, the
dashboard's charts and the budget, as an XLSX workbook (one sheet per table, and the
definitions) and a PDF in the language chosen.

Every number is read from `reports.figures` and `reports.indicators` with the filters
of the report (programme, from, to), the same calls the API makes; the report leaves
the programme team, so small groups are always withheld, whoever asked for it."""

import datetime
import io
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos
from openpyxl import Workbook

from grants.pdf import Form, format_date, format_money

from . import charts, indicators
from . import figures as reports
from .models import Definition

BREAKDOWNS = ("centre", "target_group")
CHART_FIGURE = "enterprises_supported"
# Who reads a donor report: nobody who sees personal data (docs/reports.md).
OUTSIDE_READER = AnonymousUser()


def withhold(rows, *, complementary=True):
    """Rows of figures as a reader outside the programme team may read them."""
    return reports.withhold_small_groups(OUTSIDE_READER, rows, complementary=complementary)


def quarters_of(date_from, date_to):
    """The calendar quarters that meet [date_from, date_to], the first and last cut to
    it: [(label, (first day, last day))]."""
    periods = []
    year, quarter = date_from.year, (date_from.month - 1) // 3
    while True:
        start = datetime.date(year, quarter * 3 + 1, 1)
        if start > date_to:
            return periods
        end_month = quarter * 3 + 3
        end = datetime.date(year + end_month // 12, end_month % 12 + 1, 1) - datetime.timedelta(days=1)
        label = _("%(year)s, quarter %(quarter)s") % {"year": year, "quarter": quarter + 1}
        periods.append((label, (max(start, date_from), min(end, date_to))))
        quarter += 1
        if quarter == 4:
            quarter, year = 0, year + 1


def figure_labels():
    return {
        "enterprises_supported": _("Enterprises supported"),
        "cooperatives_supported": _("Cooperatives supported"),
        "families_with_non_cash_benefits": _("Families with non-cash benefits"),
        "people_trained": _("People trained"),
        "investment_eur": _("Investment (EUR)"),
        "survival_rate_12m": _("Businesses operating after 12 months"),
        "jobs_created": _("Jobs"),
    }


def definitions():
    """(figure, definition) for the definitions sheet and the PDF's last page."""
    return [
        (_("Enterprises supported"), _("Grants whose last item was handed over in the period.")),
        (_("Cooperatives supported"), _("Those of the enterprises supported that are cooperatives.")),
        (
            _("Families with non-cash benefits"),
            _(
                "Distinct people among the grantees and cooperative members: one person stands for one household."
            ),
        ),
        (
            _("People trained"),
            _(
                "Distinct applicants who attended the programme's share of business-training sessions, by the course's last session."
            ),
        ),
        (_("Investment (EUR)"), _("Equipment delivered in the period, in EUR at each delivery's rate.")),
        (
            _("Businesses operating after 12 months"),
            _(
                "Of the enterprises supported whose fate at 12 months is known, the share the 12-month visit found operating."
            ),
        ),
        (_("Jobs"), _("Owner, family members and employees at each business's latest monitoring visit.")),
        (
            _("Withheld"),
            _(
                "Fewer than %(size)s people are behind the figure (< %(size)s), or it would let one work out such a figure (–)."
            )
            % {"size": reports.MIN_GROUP_SIZE},
        ),
    ]


def build(user, programme, date_from, date_to, *, step=lambda percent, name: None):
    """The report's content as plain data, every figure as `user` reports on it with
    small groups withheld. `step(percent, name)` is told how far it got."""
    filters = reports.ReportFilters(programme=programme.pk, date_from=date_from, date_to=date_to)
    step(10, "indicators")
    progress = indicators.indicator_progress(user, programme, [(date_from, date_to)], withhold=withhold)
    step(30, "totals")
    exact_totals = reports.impact_figures(user, filters)
    (totals,) = withhold([exact_totals], complementary=False)
    step(45, "breakdowns")
    breakdowns = {}
    for by in BREAKDOWNS:
        exact = reports.impact_breakdown(user, filters, by)
        breakdowns[by] = (exact, withhold(exact))
    step(65, "quarters")
    quarters = quarters_of(date_from, date_to)
    by_quarter = reports.impact_by_period(user, filters, [period for _label, period in quarters])
    exact_quarters = [{"label": label, **by_quarter[period]} for label, period in quarters]
    step(75, "budget")
    budget = reports.budget_report(user, reports.ReportFilters(programme=programme.pk))["results"]
    return {
        "programme": programme,
        "programme_name": budget[0]["name"] if budget else str(programme.label_for(user)),
        "date_from": date_from,
        "date_to": date_to,
        "indicators": progress,
        "totals": (exact_totals, totals),
        "breakdowns": breakdowns,
        "quarters": (exact_quarters, withhold(exact_quarters)),
        "budget": budget[0] if budget else None,
    }


# ---- cells --------------------------------------------------------------------------


def cell(exact, shown, figure):
    """What a table shows for `figure` of a row: the value, "< 5" for a group under the
    threshold, "–" for a figure withheld with it. Values stay numbers (for the XLSX)."""
    if figure in shown.get("withheld", ()):
        value = exact.get(figure)
        return (
            f"< {reports.MIN_GROUP_SIZE}" if value is not None and 0 < value < reports.MIN_GROUP_SIZE else "–"
        )
    return shown.get(figure)


def _indicator_value(value, unit):
    if value is None:
        return None
    value = Decimal(str(value))
    if unit == "eur":
        return value.quantize(Decimal("0.01"))
    if unit == "share":
        return value.quantize(Decimal("0.001"))
    return int(value) if value == value.to_integral_value() else value


def indicator_rows(content, language):
    """[code, name, definition, baseline, target, achieved, share of target] per indicator."""
    rows = []
    for row in content["indicators"]:
        (period,) = row["progress"]
        unit = row["unit"]
        achieved = "–" if period["withheld"] else _indicator_value(period["achieved"], unit)
        rows.append(
            [
                row["code"],
                row["name"][language] or row["name"]["en"],
                str(Definition(row["definition"]).label),
                _indicator_value(row["baseline"], unit),
                _indicator_value(period["target"], unit),
                achieved,
                None if period["share_of_target"] is None else float(period["share_of_target"]),
            ]
        )
    return rows


def figure_rows(exact_rows, shown_rows, labels):
    return [
        [row["label"], *(cell(e, row, f) for f in labels)]
        for e, row in zip(exact_rows, shown_rows, strict=True)
    ]


def budget_rows(content):
    row = content["budget"]
    if row is None:
        return []
    return [
        [_("Budget"), row["budget"]],
        [_("Committed"), row["committed"]],
        [_("Delivered"), row["delivered"]],
        [_("Delivered (EUR)"), row["delivered_eur"]],
        [_("Remaining"), row["remaining"]],
    ]


def headings():
    return {
        "indicators": _("Indicators against targets"),
        "breakdowns": _("Figures broken down"),
        "quarters": _("Quarter by quarter"),
        "budget": _("Budget"),
        "definitions": _("Definitions"),
        "centre": _("Per centre"),
        "target_group": _("Per target group"),
    }


def indicator_header():
    return [
        _("Code"),
        _("Indicator"),
        _("Definition"),
        _("Baseline"),
        _("Target"),
        _("Achieved"),
        _("Share of target"),
    ]


# ---- XLSX ---------------------------------------------------------------------------


def xlsx(content, language):
    """The workbook's bytes: one sheet per table, and the definitions."""
    with translation.override(language):
        labels = figure_labels()
        titles = headings()
        book = Workbook(write_only=True)
        sheet = book.create_sheet(titles["indicators"][:31])
        sheet.append(
            [content["programme_name"], f"{content['date_from']:%Y-%m-%d} – {content['date_to']:%Y-%m-%d}"]
        )
        sheet.append(indicator_header())
        for row in indicator_rows(content, language):
            sheet.append(row)
        sheet = book.create_sheet(titles["breakdowns"][:31])
        exact_totals, totals = content["totals"]
        for by in BREAKDOWNS:
            sheet.append([titles[by], *labels.values()])
            exact, shown = content["breakdowns"][by]
            for row in figure_rows(exact, shown, labels):
                sheet.append(row)
            sheet.append([_("Total"), *(cell(exact_totals, totals, f) for f in labels)])
            sheet.append([])
        sheet = book.create_sheet(titles["quarters"][:31])
        sheet.append([_("Quarter"), *labels.values()])
        for row in figure_rows(*content["quarters"], labels):
            sheet.append(row)
        sheet = book.create_sheet(titles["budget"][:31])
        budget = content["budget"]
        sheet.append([_("Currency"), budget["currency"] if budget else ""])
        for row in budget_rows(content):
            sheet.append(row)
        sheet = book.create_sheet(titles["definitions"][:31])
        sheet.append([_("Figure"), _("Definition")])
        for row in definitions():
            sheet.append(list(row))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


# ---- PDF ----------------------------------------------------------------------------


def bar_svg(width):
    """One bar as the dashboard draws it (templates/grants/includes/bars.html)."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="8" viewBox="0 0 100 8" '
        f'preserveAspectRatio="none"><rect x="0" y="0" height="8" width="{width}" fill="#1d70b8"/></svg>'
    ).encode()


def _text(value, figure, language):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if figure == "investment_eur" or isinstance(value, Decimal) and figure != "survival_rate_12m":
        return format_money(value, language)
    if figure == "survival_rate_12m":
        return f"{round(Decimal(str(value)) * 100)} %"
    return str(value)


class DonorPdf(Form):
    def table(self, header, rows, widths, *, language, figures=None):
        self.set_font("DejaVu", "B", 8)
        for text, width in zip(header, widths, strict=True):
            self.cell(width, 6, str(text), border=1)
        self.ln()
        self.set_font("DejaVu", "", 8)
        for row in rows:
            for index, (value, width) in enumerate(zip(row, widths, strict=True)):
                figure = figures[index] if figures else None
                self.cell(width, 6, _text(value, figure, language)[:60], border=1)
            self.ln()
        self.ln(4)

    def heading(self, text):
        self.set_font("DejaVu", "B", 12)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bars(self, rows, figure, language):
        """The dashboard's bars of `figure` (withheld figures draw no bar)."""
        self.set_font("DejaVu", "", 8)
        for bar in charts.bars(rows, figure):
            y = self.get_y()
            self.cell(55, 5, str(bar["label"])[:40])
            if bar["width"]:
                self.image(
                    io.BytesIO(bar_svg(bar["width"])), x=self.l_margin + 57, y=y + 0.5, w=bar["width"], h=4
                )
            self.set_x(self.l_margin + 160)
            self.cell(
                20,
                5,
                _text(bar["value"], figure, language) or "–",
                align="R",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
        self.ln(3)


def pdf(content, language):
    """The PDF's bytes, in `language`."""
    with translation.override(language):
        labels = figure_labels()
        titles = headings()
        period = f"{format_date(content['date_from'])} – {format_date(content['date_to'])}"
        document = DonorPdf(_("Donor report") + " · {page}/{pages}")
        document.start(
            title=_("Donor report"),
            subtitle=f"{content['programme_name']} · {period}",
            language=language,
            document_title=f"{_('Donor report')} {content['programme_name']} {period}",
        )
        document.heading(titles["indicators"])
        rows = indicator_rows(content, language)
        units = [row["definition"] for row in content["indicators"]]
        widths = [14, 50, 40, 18, 18, 20, 20]
        document.set_font("DejaVu", "B", 8)
        for text, width in zip(indicator_header(), widths, strict=True):
            document.cell(width, 6, str(text), border=1)
        document.ln()
        document.set_font("DejaVu", "", 8)
        for row, figure in zip(rows, units, strict=True):
            texts = [row[0], row[1][:32], row[2][:26], *(_text(v, figure, language) for v in row[3:6])]
            texts.append("" if row[6] is None else f"{round(row[6] * 100)} %")
            for text, width in zip(texts, widths, strict=True):
                document.cell(width, 6, text, border=1)
            document.ln()
        if not rows:
            document.paragraph(_("The programme has no indicators yet."))
        document.ln(4)

        document.heading(titles["breakdowns"])
        exact_totals, totals = content["totals"]
        keys = list(labels)
        for by in BREAKDOWNS:
            exact, shown = content["breakdowns"][by]
            document.paragraph(titles[by], bold=True)
            table = [
                *figure_rows(exact, shown, labels),
                [_("Total"), *(cell(exact_totals, totals, f) for f in labels)],
            ]
            document.table(
                ["", *labels.values()],
                table,
                [40, *([20] * len(keys))],
                language=language,
                figures=[None, *keys],
            )
            document.paragraph(f"{labels[CHART_FIGURE]} — {titles[by]}", size=9)
            document.bars(shown, CHART_FIGURE, language)

        document.heading(titles["quarters"])
        exact_q, shown_q = content["quarters"]
        document.paragraph(labels[CHART_FIGURE], size=9)
        document.bars(shown_q, CHART_FIGURE, language)

        document.heading(titles["budget"])
        budget = content["budget"]
        if budget:
            document.facts(
                [
                    (label, f"{format_money(value, language)} {budget['currency']}")
                    for label, value in budget_rows(content)
                ]
            )

        document.add_page()
        document.heading(titles["definitions"])
        for name, text in definitions():
            document.paragraph(str(name), bold=True)
            document.paragraph(str(text))
        return document.content()
