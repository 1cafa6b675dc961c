"""Bring registrations collected on paper or in spreadsheets into the service.

    manage.py import_applicants FILE.csv|FILE.xlsx --centre "Integration Centre Niš" --by officer [--dry-run]

One header row, then one person per row. Columns (any order, case and spaces ignored):
first_name, last_name, date_of_birth (1990-03-02 or 02.03.1990), target_groups
(returnee / former_inmate / socially_disadvantaged, several separated by ";"),
consent_given (yes/no: the paper consent form is signed), and optionally phone,
national_id, email, municipality, address, household_size, dependants, language
(en, sr-latn, sq), sex (female, male, other, not_said, or empty) and special_consents
(prison / return / ethnicity / disability, several separated by ";": the separate
consents signed on paper; a person imported as former_inmate needs "prison", as returnee
"return"). Sensitive facts (referral, return details, ethnicity, the disability
questions) are never imported from spreadsheets: a sheet with such a column is refused;
officers enter them in the person's record (the referring institution chosen from the
list), the disability answers with the person's own consent to them.

Every row goes through the same service as the form and the API. The import is all or
nothing: when any row has an error nothing is saved, and the report says which rows to
fix and why. Possible duplicates are imported and flagged for an officer to decide.
"""

import csv
import datetime
import io
import re
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.db import transaction
from tqdm import tqdm

from applicants.consent import SPECIAL_PURPOSES
from applicants.models import IntegrationCentre, Language, TargetGroup
from applicants.services import can_register, register_applicant
from audit import trail
from core.errors import NotAllowed, ServiceError

REQUIRED = ("first_name", "last_name", "date_of_birth", "target_groups", "consent_given")
OPTIONAL = (
    "sex",
    "phone",
    "national_id",
    "email",
    "municipality",
    "address",
    "household_size",
    "dependants",
    "language",
    "special_consents",
)
# Sensitive facts' columns, refused (the module's docstring).
NEVER_IMPORTED = (
    "referral_institution",
    "referral",
    "referral_other",
    "release_month",
    "returned_from",
    "return_date",
    "ethnicity",
)
ALIASES = {
    "name": "first_name",
    "first": "first_name",
    "surname": "last_name",
    "last": "last_name",
    "dob": "date_of_birth",
    "birth_date": "date_of_birth",
    "born": "date_of_birth",
    "target_group": "target_groups",
    "group": "target_groups",
    "consent": "consent_given",
    "phone_number": "phone",
    "mobile": "phone",
    "id_number": "national_id",
    "jmbg": "national_id",
    "household": "household_size",
}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%Y.", "%d/%m/%Y", "%d-%m-%Y")
YES = {"yes", "y", "true", "1", "x", "da", "po", "signed"}
NO = {"no", "n", "false", "0", "", "ne", "jo"}
LANGUAGES = {"en": "en", "sr": "sr-latn", "sr-latn": "sr-latn", "sr_latn": "sr-latn", "sq": "sq"}

IMPORTED = "imported"
DUPLICATE = "duplicate to decide"
ERROR = "error"


class RowError(Exception):
    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")


def header_name(raw):
    name = re.sub(r"[^a-z0-9]+", "_", str(raw or "").strip().lower()).strip("_")
    return ALIASES.get(name, name)


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise RowError("date_of_birth", f"“{text}” is not a date; write it as 1990-03-02 or 02.03.1990.")


def parse_groups(value):
    groups = []
    for part in re.split(r"[;,|/]+", cell_text(value)):
        code = re.sub(r"[^a-z]+", "_", part.strip().lower()).strip("_")
        if not code:
            continue
        if code not in TargetGroup.values:
            raise RowError(
                "target_groups",
                f"“{part.strip()}” is not a target group (returnee, former_inmate, socially_disadvantaged).",
            )
        groups.append(code)
    return groups


def parse_special_consents(value):
    purposes = []
    for part in re.split(r"[;,|/]+", cell_text(value)):
        code = part.strip().lower()
        if not code:
            continue
        if code not in SPECIAL_PURPOSES:
            raise RowError(
                "special_consents",
                f"“{part.strip()}” is not a separate consent ({', '.join(sorted(SPECIAL_PURPOSES))}).",
            )
        purposes.append(code)
    return purposes


def parse_yes(value, field):
    text = cell_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowError(field, f"“{cell_text(value)}” is neither yes nor no.")


def parse_count(value, field, default):
    text = cell_text(value)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise RowError(field, f"“{text}” is not a whole number.") from None


def parse_language(value):
    text = cell_text(value).lower()
    if not text:
        return Language.SERBIAN_LATIN.value
    if text not in LANGUAGES:
        raise RowError("language", f"“{text}” is not a language of the service (en, sr-latn, sq).")
    return LANGUAGES[text]


def read_rows(path, encoding):
    """(header, [(row_number, values), ...]) from a CSV or XLSX file."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, OSError, KeyError, ValueError) as exc:
            raise CommandError(f"{path.name} is not a readable XLSX workbook ({exc}).") from None
        try:
            rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
        finally:
            workbook.close()
    elif suffix in (".csv", ".txt"):
        try:
            text = path.read_text(encoding=encoding)
        except UnicodeDecodeError:
            raise CommandError(
                f"{path.name} is not {encoding} text: save it as “CSV UTF-8”, or give --encoding cp1250."
            ) from None
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.reader(io.StringIO(text), dialect))
    else:
        raise CommandError("Give a .csv or .xlsx file.")
    if not rows:
        raise CommandError(f"{path.name} is empty.")
    header = [header_name(h) for h in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise CommandError(f"{path.name} lacks the column(s): {', '.join(missing)}.")
    # A referral column is refused rather than skipped: a sheet's free text is where
    # offence details slip in, and it would be lost without a word.
    refused = [name for name in header if name in NEVER_IMPORTED]
    if refused:
        raise CommandError(
            f"{path.name} has the column(s) {', '.join(refused)}: sensitive facts are not imported. "
            "Remove them and choose the referring institution in the person's record."
        )
    body = [
        (number, dict(zip(header, row, strict=False)))
        for number, row in enumerate(rows[1:], start=2)
        if any(cell_text(v) for v in row)
    ]
    return header, body


def registration_values(row):
    return {
        "first_name": cell_text(row.get("first_name")),
        "last_name": cell_text(row.get("last_name")),
        "date_of_birth": parse_date(row.get("date_of_birth")),
        "target_groups": parse_groups(row.get("target_groups")),
        "consent_given": parse_yes(row.get("consent_given"), "consent_given"),
        "phone": cell_text(row.get("phone")),
        "national_id": cell_text(row.get("national_id")),
        "email": cell_text(row.get("email")),
        "municipality": cell_text(row.get("municipality")),
        "address": cell_text(row.get("address")),
        "household_size": parse_count(row.get("household_size"), "household_size", 1),
        "dependants": parse_count(row.get("dependants"), "dependants", 0),
        "language": parse_language(row.get("language")),
        "sex": cell_text(row.get("sex")).lower(),
        "special_consents": parse_special_consents(row.get("special_consents")),
    }


def service_error_text(exc):
    if isinstance(exc, ServiceError) and exc.details:
        field, messages = next(iter(exc.details.items()))
        return f"{field}: {messages[0]}"
    return str(getattr(exc, "reason", None) or exc or "not allowed")


class Command(BaseCommand):
    help = "Import applicants from a CSV or XLSX file (all or nothing; --dry-run to check first)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--centre", required=True, help="The centre's id or exact name.")
        parser.add_argument(
            "--by", required=True, help="Username of the field officer registering them (audited)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and report; save nothing.")
        parser.add_argument("--encoding", default="utf-8-sig", help="CSV encoding (default UTF-8).")

    @no_translations  # the report is a log for whoever runs it: one language, English
    def handle(self, *args, **options):
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        centre = self.find_centre(options["centre"])
        officer = get_user_model().objects.filter(username=options["by"], is_active=True).first()
        if officer is None:
            raise CommandError(f"No active user “{options['by']}”.")
        allowed = can_register(officer, centre)
        if not allowed:
            raise CommandError(
                f"{officer.username} cannot register applicants at {centre.name}: {allowed.reason}"
            )
        _header, rows = read_rows(path, options["encoding"])
        if not rows:
            raise CommandError(f"{path.name} has a header but no rows.")

        report = []
        with transaction.atomic():
            for number, row in tqdm(rows, desc="Importing", unit="row", disable=None):
                report.append((number, *self.import_row(row, centre=centre, officer=officer)))
            counts = {
                kind: sum(1 for _n, k, _t in report if k == kind) for kind in (IMPORTED, DUPLICATE, ERROR)
            }
            if not counts[ERROR] and not options["dry_run"]:
                trail.record(
                    action="applicants_imported",
                    actor=officer,
                    data={"file": path.name, "centre": centre.pk, "rows": len(rows), **counts},
                )
            else:
                transaction.set_rollback(True)

        for number, kind, text in report:
            line = f"row {number}: {kind} — {text}"
            self.stdout.write(self.style.ERROR(line) if kind == ERROR else line)
        summary = (
            f"{len(rows)} rows: {counts[IMPORTED]} imported, {counts[DUPLICATE]} duplicate to decide, "
            f"{counts[ERROR]} error."
        )
        self.stdout.write(summary)
        if counts[ERROR]:
            raise CommandError(
                f"Nothing was imported: fix the {counts[ERROR]} row(s) with errors and run again."
            )
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was saved.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Imported {counts[IMPORTED] + counts[DUPLICATE]} applicants.")
            )

    def find_centre(self, value):
        centres = IntegrationCentre.objects.all()
        centre = (centres.filter(pk=int(value)) if value.isdigit() else centres.filter(name=value)).first()
        if centre is None:
            raise CommandError(f"No centre “{value}”; give its id or exact name.")
        return centre

    def import_row(self, row, *, centre, officer):
        """(kind, text) for one row; a failed row leaves nothing behind (savepoint)."""
        try:
            values = registration_values(row)
            with transaction.atomic():
                person = register_applicant(by=officer, centre=centre, **values)
        except RowError as exc:
            return ERROR, str(exc)
        except (ServiceError, NotAllowed) as exc:
            return ERROR, service_error_text(exc)
        label = f"{person.full_name} (#{person.pk})"
        if person.possible_duplicates:
            others = "; ".join(
                f"#{other.pk} ({', '.join(r.replace('_', ' ') for r in reasons)})"
                for other, reasons in person.possible_duplicates
            )
            return DUPLICATE, f"{label}: possible duplicate of {others}"
        return IMPORTED, label
