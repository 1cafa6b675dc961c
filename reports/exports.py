"""CSV and XLSX exports of the reports, streamed.

Both are written row by row as the database cursor advances and sent as they are
written (`StreamingHttpResponse`): memory stays flat however many rows there are. Sources
of rows are generators over `.iterator()` querysets, or report rows already aggregated
by the database (reports.figures). Text that a spreadsheet would run as a formula stays
text (CSV: prefixed with an apostrophe; XLSX: a string cell).
"""

import csv
import dataclasses
import re
import zipfile
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from applicants.models import IntegrationCentre
from core.errors import ServiceError
from grants.models import DeliveryLine, Programme

from . import figures as reports

CSV_CHUNK_ROWS = 500
ITERATOR_CHUNK = 1000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The CSV's separator and decimal mark, `?sep=`: a comma and a decimal point by default,
# for the API's clients, whose files must not change; Excel with Serbian or Albanian
# regional settings opens a comma-separated file as one column and reads "12.50" as text
# or a date, so the web pages' links ask for `semicolon` (a semicolon and decimal commas)
# in those languages (`web_csv_separator`, docs/reports.md).
CSV_SEPARATORS = {"comma": (",", "."), "semicolon": (";", ",")}
DEFAULT_CSV_SEPARATOR = "comma"
SEMICOLON_LANGUAGES = frozenset({"sr-latn", "sq"})
DECIMAL_KINDS = frozenset({"money", "rate", "share"})
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, int, money, rate, share, date


@dataclasses.dataclass
class Export:
    """What an export holds: a title (the sheet's), the columns and an iterable of rows
    (tuples in column order). `rows` is consumed once."""

    title: str
    columns: list
    rows: object

    @property
    def header(self):
        return [c.name for c in self.columns]


# ---- writing ------------------------------------------------------------------------


class _Echo:
    """A file that gives back what is written to it, so csv.writer returns each line."""

    def write(self, value):
        return value


def _defuse(value):
    """Text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_separator(raw):
    """The `?sep=` of an export: comma (the default) or semicolon; ServiceError (400)
    for anything else."""
    if not raw:
        return DEFAULT_CSV_SEPARATOR
    if raw not in CSV_SEPARATORS:
        raise ServiceError(
            _("sep: choose “comma” or “semicolon”."), details={"sep": [_("Choose comma or semicolon.")]}
        )
    return raw


def web_csv_separator(language):
    """The separator the web pages' CSV links ask for in the reader's language."""
    return "semicolon" if language in SEMICOLON_LANGUAGES else DEFAULT_CSV_SEPARATOR


def csv_chunks(export, *, chunk_rows=CSV_CHUNK_ROWS, sep=DEFAULT_CSV_SEPARATOR):
    """Encoded CSV (UTF-8 with a byte-order mark, which spreadsheet programs need to
    read č, ć, đ, ë as such), a few hundred rows per chunk. None is an empty cell,
    a date is written as YYYY-MM-DD and a Decimal as its digits, with the decimal
    mark of `sep` (CSV_SEPARATORS)."""
    delimiter, decimal_mark = CSV_SEPARATORS[sep]
    writer = csv.writer(_Echo(), delimiter=delimiter)
    text_columns = [i for i, column in enumerate(export.columns) if column.kind == "text"]
    decimal_columns = (
        [i for i, column in enumerate(export.columns) if column.kind in DECIMAL_KINDS]
        if decimal_mark != "."
        else []
    )
    yield ("\ufeff" + writer.writerow(export.header)).encode()
    buffer = []
    for row in export.rows:
        row = list(row)
        for i in text_columns:
            row[i] = _defuse(row[i])
        for i in decimal_columns:
            if isinstance(row[i], Decimal):
                row[i] = str(row[i]).replace(".", decimal_mark)
        buffer.append(writer.writerow(row))
        if len(buffer) >= chunk_rows:
            yield "".join(buffer).encode()
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode()


# An XLSX file is a zip of XML parts. The sheet is written row by row into a zip entry
# whose size is not known in advance (a data descriptor follows it), so the file streams
# out as it is made, like the CSV. openpyxl, which the project also uses, is far slower
# on large sheets (docs/reports.md), so the few fixed parts are here.
XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet"/>'
        '<Relationship Id="rId2" Target="styles.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/styles"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="3"><numFmt numFmtId="164" formatCode="#,##0.00"/>'
        '<numFmt numFmtId="165" formatCode="0.000000"/><numFmt numFmtId="166" formatCode="0.0000"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# cellXfs above: 1 money, 2 date, 3 exchange rate, 4 share, 5 bold header.
XLSX_STYLE = {"money": 1, "date": 2, "rate": 3, "share": 4}
HEADER_STYLE = 5
EXCEL_EPOCH = date(1899, 12, 30)
# Characters XML 1.0 cannot carry, whatever the escaping.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _column_letters(count):
    letters = []
    for index in range(count):
        name, n = "", index + 1
        while n:
            n, rest = divmod(n - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _xlsx_text(ref, value, style=0):
    text = escape(NOT_XML.sub("", value))
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{styled}><is><t xml:space="preserve">{text}</t></is></c>'


def _xlsx_cell(ref, value, kind):
    """One cell: text stays text (never a formula), numbers are numbers in the column's
    format, dates are spreadsheet dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _xlsx_text(ref, value)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="2"><v>{(value - EXCEL_EPOCH).days}</v></c>'
    style = XLSX_STYLE.get(kind, 0)
    number = format(value, "f") if isinstance(value, Decimal) else str(int(value))
    return f'<c r="{ref}" s="{style}"><v>{number}</v></c>' if style else f'<c r="{ref}"><v>{number}</v></c>'


class _Pipe:
    """A write-only file whose content is taken away as it comes (zipfile writes into
    it; the response reads from it)."""

    def __init__(self):
        self.parts = []

    def write(self, data):
        self.parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def xlsx_chunks(export, *, chunk_rows=CSV_CHUNK_ROWS):
    """The XLSX file in chunks, a few hundred rows at a time."""
    pipe = _Pipe()
    letters = _column_letters(len(export.columns))
    kinds = [c.kind for c in export.columns]
    title = escape(NOT_XML.sub("", export.title)[:31], {'"': "&quot;"})
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, xml in XLSX_PARTS.items():
            archive.writestr(name, XML_DECLARATION + xml)
        archive.writestr(
            "xl/workbook.xml",
            XML_DECLARATION + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        yield pipe.take()
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            header = "".join(
                _xlsx_text(f"{letter}1", name, HEADER_STYLE)
                for letter, name in zip(letters, export.header, strict=True)
            )
            sheet.write(
                (
                    XML_DECLARATION
                    + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    f'<sheetData><row r="1">{header}</row>'
                ).encode()
            )
            buffer = []
            for number, row in enumerate(export.rows, start=2):
                cells = "".join(
                    _xlsx_cell(f"{letter}{number}", value, kind)
                    for letter, value, kind in zip(letters, row, kinds, strict=True)
                )
                buffer.append(f'<row r="{number}">{cells}</row>')
                if len(buffer) >= chunk_rows:
                    sheet.write("".join(buffer).encode())
                    buffer.clear()
                    data = pipe.take()
                    if data:
                        yield data
            sheet.write(("".join(buffer) + "</sheetData></worksheet>").encode())
    yield pipe.take()


def filename(stem, extension):
    return f"{stem}-{timezone.localdate().isoformat()}.{extension}"


def csv_response(export, stem, sep=DEFAULT_CSV_SEPARATOR):
    response = StreamingHttpResponse(csv_chunks(export, sep=sep), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(stem, "csv")}"'
    response["Cache-Control"] = "private, no-store"
    return response


def xlsx_response(export, stem):
    response = StreamingHttpResponse(xlsx_chunks(export), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(stem, "xlsx")}"'
    response["Cache-Control"] = "private, no-store"
    return response


def response(export, stem, extension, sep=DEFAULT_CSV_SEPARATOR):
    if extension == "xlsx":
        return xlsx_response(export, stem)
    return csv_response(export, stem, sep)


# ---- what is exported ---------------------------------------------------------------

BUDGET_COLUMNS = [
    Column("level"),
    Column("id", "int"),
    Column("name"),
    Column("donor"),
    Column("country"),
    Column("currency"),
    Column("programmes", "int"),
    Column("budget", "money"),
    Column("committed", "money"),
    Column("delivered", "money"),
    Column("delivered_eur", "money"),
    Column("remaining", "money"),
    Column("quotes_per_item", "rate"),
    Column("cheapest_share", "share"),
    Column("purchase_orders", "int"),
    Column("approved_purchase_orders", "int"),
    Column("purchase_order_value", "money"),
]
BUYING = (
    "quotes_per_item",
    "cheapest_share",
    "purchase_orders",
    "approved_purchase_orders",
    "purchase_order_value",
)


def budget_export(user, filters=reports.NO_FILTERS):
    """The budget report's rows: per programme (each followed by its calls), then per
    country, then per donor —
    the same figures as `reports.budget_report`."""
    report = reports.budget_report(user, filters)

    def rows():
        money = ("budget", "committed", "delivered", "delivered_eur", "remaining")
        for r in report["results"]:
            yield (
                "programme",
                r["id"],
                r["name"],
                r["donor"],
                r["country__code"],
                r["currency"],
                r["programmes"],
                *(r[m] for m in money),
                *(r[b] for b in BUYING),
            )
            for call in r["calls"]:
                yield (
                    "call",
                    call["id"],
                    call["name"],
                    r["donor"],
                    r["country__code"],
                    r["currency"],
                    None,
                    *(call[m] for m in money),
                    *(None for _ in BUYING),  # (procurement is counted per programme)
                )
        for r in report["by_country"]:
            yield (
                "country",
                r["country"],
                r["country__name"],
                None,
                r["country__code"],
                r["currency"],
                r["programmes"],
                *(r[m] for m in money),
                *(r[b] for b in BUYING),
            )
        for r in report["by_donor"]:
            yield (
                "donor",
                None,
                r["donor"],
                r["donor"],
                None,
                r["currency"],
                r["programmes"],
                *(r[m] for m in money),
                *(r[b] for b in BUYING),
            )

    return Export("Budget", BUDGET_COLUMNS, rows())


IMPACT_COLUMNS = [
    Column("group"),
    Column("key"),
    Column("label"),
    Column("enterprises_supported", "int"),
    Column("cooperatives_supported", "int"),
    Column("families_with_non_cash_benefits", "int"),
    Column("people_trained", "int"),
    Column("investment_eur", "money"),
    Column("survival_rate_12m", "share"),
    Column("survived_12m", "int"),
    Column("assessed_12m", "int"),
    Column("jobs_created", "int"),
    Column("institutions_supported", "int"),
    Column("withheld"),
    # Training without a grant (rows `training_*`), after the columns clients already read.
    Column("people_registered", "int"),
    Column("people_counted", "int"),
    Column("meetings_held", "int"),
    Column("meeting_participants", "int"),
]
_IMPACT_VALUES = [c.name for c in IMPACT_COLUMNS[3 : [c.name for c in IMPACT_COLUMNS].index("withheld")]]
_TRAINING_PEOPLE = ("people_registered", "people_counted")


def impact_export(user, filters=reports.NO_FILTERS, by=None):
    """The programme figures for the filters (first row, group `all`), then one row per
    group when `by` is given (one group, or two crossed: "sex,target_group", the key
    "female,returnee"). A file leaves the programme team, so small numbers are protected
    whoever asks (`reports.protected_report`): a count of fewer than the threshold
    people reads "< 5", and the figures withheld with it are empty."""
    report = reports.protected_report(user, filters, by)
    training = reports.protected_training_service(user, filters)
    below = reports.shown_as()
    nothing = (None,) * len(_TRAINING_PEOPLE + ("meetings", "participants"))

    def shown(row, name):
        return below if name in row["below_threshold"] else row[name]

    def cells(row):
        return (shown(row, k) for k in _IMPACT_VALUES)

    def training_row(group, key, row):
        """Training without a grant: people trained in `people_trained`, its two parts
        in their own columns, the other figures empty."""
        figures = (shown(row, k) if k == "people_trained" else None for k in _IMPACT_VALUES)
        parts = (shown(row, k) for k in _TRAINING_PEOPLE)
        return (group, key, row.get("label"), *figures, " ".join(row["withheld"]), *parts, None, None)

    def rows():
        # `withheld`: the figures left empty or "< 5" because too few people are behind them.
        total = report["totals"]
        yield ("all", None, None, *cells(total), " ".join(total["withheld"]), *nothing)
        for row in report["breakdown"]:
            key = ",".join(map(str, row["key"])) if isinstance(row["key"], list) else row["key"]
            yield (by, key, row["label"], *cells(row), " ".join(row["withheld"]), *nothing)
        yield training_row("training_all", None, training["total"])
        for name in reports.TRAINING_DIMENSIONS:
            for row in training[f"by_{name}"]:
                yield training_row(f"training_{name}", row["key"], row)
        for row in training["meetings_by_kind"]:
            empty = (None,) * (len(_IMPACT_VALUES) + 1 + len(_TRAINING_PEOPLE))
            yield (
                "training_meetings",
                row["key"],
                row["label"],
                *empty,
                row["meetings"],
                row["participants"],
            )

    return Export("Programme figures", IMPACT_COLUMNS, rows())


LEDGER_COLUMNS = [
    Column("application", "int"),
    Column("business_name"),
    Column("programme"),
    Column("centre"),
    Column("currency"),
    Column("delivered_on", "date"),
    Column("supplier"),
    Column("invoice_number"),
    Column("item"),
    Column("quantity", "int"),
    Column("estimated_unit_cost", "money"),
    Column("actual_unit_cost", "money"),
    Column("amount", "money"),
    Column("units_per_eur", "rate"),
    Column("amount_eur", "money"),
    Column("variance", "money"),
]


def place_labels(user, applications):
    """({programme id: label}, {centre id: label}) of the programmes and centres of
    `applications`, as the user may read them (names, or public labels for finance): two
    small queries, whatever the number of lines."""
    programmes = Programme.objects.filter(pk__in=applications.values("programme_id"))
    centres = IntegrationCentre.objects.filter(pk__in=applications.values("centre_id"))
    return {p.pk: p.label_for(user) for p in programmes}, {c.pk: c.label_for(user) for c in centres}


def ledger_lines(user, filters=reports.NO_FILTERS):
    """Delivery lines of the applications the user reports on, oldest first."""

    apps = reports.filtered_applications(user, filters)
    return (
        DeliveryLine.objects.filter(delivery__application__in=apps)
        .filter(filters.period_q("delivery__delivered_on"))
        .order_by("delivery__delivered_on", "delivery_id", "id")
    )


def ledger_export(user, filters=reports.NO_FILTERS):
    """Every delivery line with its grant, supplier, invoice, amounts in the programme's
    currency and in EUR, and its variance against the approved unit cost. Read with a
    database iterator: rows are never all in memory."""
    lines = ledger_lines(user, filters).values_list(
        "delivery__application_id",
        "delivery__application__business_name",
        "delivery__application__programme_id",
        "delivery__application__centre_id",
        "delivery__application__programme__currency",
        "delivery__delivered_on",
        "delivery__supplier",
        "delivery__invoice_number",
        "item__description",
        "quantity",
        "item__unit_cost",
        "actual_unit_cost",
        "amount",
        "units_per_eur",
        "amount_eur",
    )

    programme_labels, centre_labels = place_labels(user, reports.filtered_applications(user, filters))

    def rows():
        for row in lines.iterator(chunk_size=ITERATOR_CHUNK):
            quantity, estimated, amount = row[9], row[10], row[12]
            programme, centre = programme_labels[row[2]], centre_labels[row[3]]
            # Both have two decimal places: the difference is exact.
            yield (*row[:2], programme, centre, *row[4:], amount - estimated * quantity)

    return Export("Ledger", LEDGER_COLUMNS, rows())
