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

from django.utils import translation
from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos
from openpyxl import Workbook

from grants.pdf import Form, format_date, format_money

from . import charts, indicators
from . import figures as reports
from .figures import small_numbers
from .figures.small_numbers import TOTAL
from .models import Definition

BREAKDOWNS = ("sex", "age_band", "disability", "target_group", "centre", "municipality")
CROSSED = ("sex", "target_group")
CHART_FIGURE = "enterprises_supported"


def protect_rows(rows, totals=None):
    """`rows` of figures (the groups of one table) and their `totals` as a reader outside
    the programme team reads them, whoever asked (`reports.figures.withhold`: "< 5"
    under the threshold, the complement hidden too, the figures about the same people
    with them). Returns (rows, totals)."""
    return reports.withhold(rows, totals=totals, complementary=True)


def crossed_table(rows, first_rows, second_rows, totals, figure=CHART_FIGURE):
    """The crossed breakdown's counts of `figure` as a protected two-way table with its
    margins (the two breakdowns by one group, the total): {(first, second): shown}."""
    cells = {tuple(row["key"]): row[figure] or 0 for row in rows}
    cells.update({(row["key"], TOTAL): row[figure] or 0 for row in first_rows})
    cells.update({(TOTAL, row["key"]): row[figure] or 0 for row in second_rows})
    cells[(TOTAL, TOTAL)] = totals[figure] or 0
    return small_numbers.protected_table(cells)


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
    """{figure: label} of the figures an indicator may count, in the active language."""
    return {definition.value: str(definition.label) for definition in Definition}


def definitions():
    """(figure, definition) for the definitions sheet and the PDF's last page."""
    return [
        (_("Enterprises supported"), _("Grants whose last item was handed over in the period.")),
        (_("Cooperatives supported"), _("Those of the enterprises supported that are cooperatives.")),
        (
            _("Institutions supported"),
            _(
                "Grants to institutions (prison workshops, vocational schools, municipal cooperatives) whose "
                "last item was handed over in the period: not enterprises, and in no figure of people, "
                "survival or jobs; their equipment is in the investment."
            ),
        ),
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
        (
            _("Training without a grant"),
            _(
                "Apart from the people trained above: registered people who completed a course without applying for a grant; participants counted without names (per course its fullest session: the least number of people); business training and network meetings held and their participants."
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
            % {"size": small_numbers.threshold()},
        ),
    ]


def build(user, programme, date_from, date_to, *, step=lambda percent, name: None):
    """The report's content as plain data, every figure as `user` reports on it, exact
    and protected. `step(percent, name)` is told how far it got."""
    filters = reports.ReportFilters(programme=programme.pk, date_from=date_from, date_to=date_to)
    step(10, "indicators")
    progress = indicators.indicator_progress(
        user, programme, [(date_from, date_to)], withhold=lambda rows: protect_rows(rows)[0]
    )
    step(25, "totals")
    exact_totals = reports.impact_figures(user, filters)
    _none, totals = protect_rows([], exact_totals)
    breakdowns = {}
    for index, by in enumerate(BREAKDOWNS):
        step(30 + index * 6, by)
        exact = reports.breakdown(user, filters, (by,))
        shown, total = protect_rows(exact, exact_totals)
        breakdowns[by] = {"exact": exact, "rows": shown, "total": total}
    step(68, "crossed")
    crossed_rows = reports.breakdown(user, filters, CROSSED)
    crossed = crossed_table(
        crossed_rows, breakdowns[CROSSED[0]]["exact"], breakdowns[CROSSED[1]]["exact"], exact_totals
    )
    step(72, "quarters")
    quarters = quarters_of(date_from, date_to)
    by_quarter = reports.impact_by_period(user, filters, [period for _label, period in quarters])
    exact_quarters = [{"label": label, **by_quarter[period]} for label, period in quarters]
    shown_quarters, _total = protect_rows(exact_quarters, exact_totals)
    step(75, "training without a grant")
    training_service = reports.protected_training_service(user, filters)
    step(78, "budget")
    budget = reports.budget_report(user, reports.ReportFilters(programme=programme.pk))["results"]
    return {
        "programme": programme,
        "programme_name": budget[0]["name"] if budget else str(programme.label_for(user)),
        "date_from": date_from,
        "date_to": date_to,
        "indicators": progress,
        "totals": totals,
        "breakdowns": breakdowns,
        "crossed": {
            "first": [(row["key"], row["label"]) for row in breakdowns[CROSSED[0]]["exact"]],
            "second": [(row["key"], row["label"]) for row in breakdowns[CROSSED[1]]["exact"]],
            "cells": crossed,
        },
        "quarters": shown_quarters,
        # Grants to institutions: not people, so never withheld as a small number.
        "institutions": institution_rows(exact_totals, exact_quarters),
        "training_service": training_service,
        "budget": budget[0] if budget else None,
    }


def institution_rows(totals, quarters):
    """[label, institutions supported] per quarter, then the period's total."""
    return [
        *([row["label"], row["institutions_supported"]] for row in quarters),
        [_("Total"), totals["institutions_supported"]],
    ]


# ---- cells --------------------------------------------------------------------------


def cell(row, figure):
    """What a table shows for `figure` of a protected row: the value, "< 5" for a count
    under the threshold, "–" for a figure hidden with one. Values stay numbers."""
    if figure in row.get("below_threshold", ()):
        return small_numbers.shown_as()
    if figure in row.get("withheld", ()):
        return "–"
    return row.get(figure)


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
    """[code, name, definition, baseline, target, achieved, share of target] per
    indicator, and per sex it has a target for."""
    rows = []
    for row in content["indicators"]:
        unit = row["unit"]
        name = row["name"][language] or row["name"]["en"]
        for period in row["progress"]:
            achieved = _indicator_value(period["achieved"], unit)
            if period["withheld"]:
                achieved = small_numbers.shown_as() if period["small"] else "–"
            rows.append(
                [
                    row["code"],
                    f"{name} · {period['sex_label']}" if period["sex"] else name,
                    str(Definition(row["definition"]).label),
                    _indicator_value(row["baseline"], unit) if not period["sex"] else None,
                    _indicator_value(period["target"], unit),
                    achieved,
                    period["share_of_target"],
                    row["definition"],
                ]
            )
    return rows


def figure_rows(rows, labels):
    return [[row["label"], *(cell(row, figure) for figure in labels)] for row in rows]


def training_service_rows(content):
    """(label, value) of the training without a grant; a withheld count reads "< 5"."""
    figures = content.get("training_service") or {}

    def value(name):
        if name in figures.get("withheld", ()):
            return small_numbers.shown_as()
        return "–" if figures.get(name) is None else figures[name]

    return [
        (_("Registered people trained without a grant application"), value("people_trained")),
        (_("Participants counted without names (at least)"), value("participants_counted")),
        (_("Business training meetings"), value("business_training_meetings")),
        (_("Network meetings"), value("network_meetings")),
        (_("Participants in the meetings"), value("meeting_participants")),
    ]


def training_people_header():
    return [_("People trained"), _("Registered"), _("Counted without names")]


def training_breakdown_tables(content, titles):
    """(title, rows) per breakdown of the training without a grant: each group's people
    trained, registered and counted without names ("< 5" and "–" as elsewhere), then the
    total; then the meetings by kind."""
    figures = content.get("training_service") or {}
    if "total" not in figures:  # a report built before the breakdowns
        return
    people = ("people_trained", "people_registered", "people_counted")
    for name in reports.TRAINING_DIMENSIONS:
        rows = [[row["label"], *(cell(row, f) for f in people)] for row in figures[f"by_{name}"]]
        total = figures["total"]
        yield titles[name], [*rows, [_("Total"), *(cell(total, f) for f in people)]]


def training_meeting_rows(content):
    """[kind, meetings held, participants] of the training without a grant."""
    figures = content.get("training_service") or {}
    return [
        [row["label"], *("–" if row[f] is None else row[f] for f in ("meetings", "participants"))]
        for row in figures.get("meetings_by_kind", ())
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
        "crossed": _("Enterprises supported by sex and target group"),
        "crossed_sheet": _("Sex and target group"),
        "quarters": _("Quarter by quarter"),
        "institutions": _("Institutions supported"),
        "budget": _("Budget"),
        "training_service": _("Training without a grant"),
        "definitions": _("Definitions"),
        **{name: str(label) for name, label in reports.DIMENSION_LABELS.items()},
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


def breakdown_tables(content, labels, titles):
    """(title, rows) per breakdown: its groups, then the total."""
    for by in BREAKDOWNS:
        table = content["breakdowns"][by]
        yield (
            titles[by],
            [*figure_rows(table["rows"], labels), [_("Total"), *(cell(table["total"], f) for f in labels)]],
        )


def crossed_rows(content):
    """The crossed table as rows: a header of the second groups and "Total", then one
    row per first group and the totals row."""
    crossed = content["crossed"]
    seconds = [*crossed["second"], (TOTAL, _("Total"))]
    firsts = [*crossed["first"], (TOTAL, _("Total"))]
    header = ["", *(label for _key, label in seconds)]
    rows = [
        [
            label,
            *(
                "–" if crossed["cells"].get((key, second)) is None else crossed["cells"][(key, second)]
                for second, _l in seconds
            ),
        ]
        for key, label in firsts
    ]
    return header, rows


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
            sheet.append(row[:7])
        sheet = book.create_sheet(titles["breakdowns"][:31])
        for title, rows in breakdown_tables(content, labels, titles):
            sheet.append([title, *labels.values()])
            for row in rows:
                sheet.append(row)
            sheet.append([])
        sheet = book.create_sheet(titles["crossed_sheet"][:31])
        header, rows = crossed_rows(content)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        sheet = book.create_sheet(titles["quarters"][:31])
        sheet.append([_("Quarter"), *labels.values()])
        for row in figure_rows(content["quarters"], labels):
            sheet.append(row)
        sheet = book.create_sheet(titles["institutions"][:31])
        sheet.append([_("Quarter"), titles["institutions"]])
        for row in content["institutions"]:
            sheet.append(row)
        sheet = book.create_sheet(titles["training_service"][:31])
        for row in training_service_rows(content):
            sheet.append(list(row))
        for title, rows in training_breakdown_tables(content, titles):
            sheet.append([])
            sheet.append([title, *training_people_header()])
            for row in rows:
                sheet.append(row)
        sheet.append([])
        sheet.append([_("Kind"), _("Meetings"), _("Participants")])
        for row in training_meeting_rows(content):
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
    if figure == "survival_rate_12m":
        return f"{round(Decimal(str(value)) * 100)} %"
    if figure == "investment_eur" or isinstance(value, Decimal):
        return format_money(value, language)
    return str(value)


class DonorPdf(Form):
    def heading(self, text):
        if self.get_y() > self.page_break_trigger - 40:
            self.add_page()
        self.set_font("DejaVu", "B", 12)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, header, rows, widths, *, language, figures=None):
        """A table with its header; long words wrap inside their cell."""
        self.set_font("DejaVu", "", 7)
        with self.table(col_widths=widths, width=sum(widths), align="LEFT", line_height=4) as table:
            table.row(str(text) for text in header)
            for values in rows:
                table.row(
                    _text(value, figures[index] if figures else None, language)
                    for index, value in enumerate(values)
                )
        self.ln(3)

    def bars(self, rows, figure, language):
        """The dashboard's bars of `figure`; a hidden figure draws no bar."""
        self.set_font("DejaVu", "", 8)
        for bar, row in zip(charts.bars(rows, figure), rows, strict=True):
            if self.get_y() > self.page_break_trigger - 6:
                self.add_page()
            y = self.get_y()
            self.cell(55, 5, str(bar["label"])[:40])
            if bar["width"]:
                self.image(
                    io.BytesIO(bar_svg(bar["width"])), x=self.l_margin + 57, y=y + 1, w=bar["width"], h=4
                )
            self.set_x(self.l_margin + 160)
            shown = cell(row, figure)
            self.cell(
                20, 5, _text(shown, figure, language) or "–", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
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
        if rows:
            texts = [
                [
                    *row[:3],
                    *(_text(value, row[7], language) for value in row[3:6]),
                    "" if row[6] is None else f"{round(row[6] * 100)} %",
                ]
                for row in rows
            ]
            document.grid(indicator_header(), texts, [14, 52, 40, 18, 18, 20, 20], language=language)
        else:
            document.paragraph(_("The programme has no indicators yet."))
        document.ln(2)

        keys = list(labels)
        document.heading(titles["breakdowns"])
        for by, (title, table) in zip(BREAKDOWNS, breakdown_tables(content, labels, titles), strict=True):
            document.paragraph(title, bold=True)
            document.grid(
                ["", *labels.values()],
                table,
                [40, *([20] * len(keys))],
                language=language,
                figures=[None, *keys],
            )
            document.paragraph(f"{labels[CHART_FIGURE]} — {title}", size=9)
            document.bars(content["breakdowns"][by]["rows"], CHART_FIGURE, language)

        document.heading(titles["crossed"])
        header, crossed = crossed_rows(content)
        width = (document.w - document.l_margin - document.r_margin - 40) / (len(header) - 1)
        document.grid(header, crossed, [40, *([width] * (len(header) - 1))], language=language)

        document.heading(titles["quarters"])
        document.paragraph(labels[CHART_FIGURE], size=9)
        document.bars(content["quarters"], CHART_FIGURE, language)

        document.heading(titles["institutions"])
        document.grid(
            [_("Quarter"), titles["institutions"]], content["institutions"], [60, 40], language=language
        )
        document.heading(titles["training_service"])
        document.facts([(label, str(value)) for label, value in training_service_rows(content)])
        for title, rows in training_breakdown_tables(content, titles):
            document.grid([title, *training_people_header()], rows, [60, 30, 30, 30], language=language)
        document.grid(
            [_("Kind"), _("Meetings"), _("Participants")],
            training_meeting_rows(content),
            [60, 30, 30],
            language=language,
        )

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
