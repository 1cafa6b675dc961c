"""Exports of applicants' records (the financial exports are in grants).

Masked by default: names, phone, national ID, email and address show only their first
character and the birth date only its year. The unmasked export of personal data needs
`applicants.export_personal_data`. Sensitive facts (referral, return details, ethnicity)
and the target groups, which can reveal a prison sentence, are in no export. Every
export is audited: who, how many rows, masked or not.
"""

import csv
import io
import re

from audit import trail
from core.errors import NotAllowed

from .permissions import can_export_applicants, can_export_personal_data
from .selectors import applicants_for
from .sensitivity import masked

COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "national_id",
    "email",
    "municipality",
    "address",
    "centre",
    "household_size",
    "dependants",
    "language",
]


def applicant_rows(*, by, personal=False, centre=None):
    """Header and rows of the applicants `by` may see (filtered in the database)."""
    decision = can_export_personal_data(by) if personal else can_export_applicants(by)
    if not decision:
        raise NotAllowed(decision.reason)
    qs = applicants_for(by).filter(pseudonymised_at__isnull=True).select_related("centre")
    if centre is not None:
        qs = qs.filter(centre=centre)
    rows = []
    for applicant in qs.order_by("centre__name", "last_name", "first_name", "id").iterator(chunk_size=2000):
        row = []
        for column in COLUMNS:
            if column == "id":
                row.append(applicant.pk)
            elif column == "centre":
                row.append(applicant.centre.name)
            elif personal:
                value = getattr(applicant, column)
                row.append(value.isoformat() if hasattr(value, "isoformat") else value)
            else:
                row.append(masked(applicant, column))
        rows.append(row)
    trail.record(
        action="personal_data_exported" if personal else "applicants_exported",
        actor=by,
        data={
            "rows": len(rows),
            "masked": not personal,
            "columns": COLUMNS,
            "centre": centre.pk if centre is not None else None,
        },
    )
    return COLUMNS, rows


def export_applicants_csv(*, by, personal=False, centre=None):
    """The export as CSV text (UTF-8 with a BOM so that spreadsheets read the letters)."""
    header, rows = applicant_rows(by=by, personal=personal, centre=centre)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_cell(v) for v in row])
    return out.getvalue()


PHONE = re.compile(r"^\+[\d•]+$")


def _safe_cell(value):
    """No spreadsheet formulas from user input (CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not PHONE.match(text):
        return "'" + text
    return text
