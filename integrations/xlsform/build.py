"""Writes the monitoring-visit XLSForm for KoboToolbox and ODK (monitoring_visit.xlsx
beside this file): `python -m integrations.xlsform.build`. The question names come from
integrations.kobo, which reads the submissions, so the form and the intake agree;
tests/test_xlsform.py converts the file with pyxform and checks it is this script's.

Labels in English, Serbian (Latin) and Albanian, by docs/glossary.md."""

import sys
from pathlib import Path

from openpyxl import Workbook

from integrations import kobo

PATH = Path(__file__).with_name("monitoring_visit.xlsx")
VERSION = "2026120601"  # bump with any change: form servers tell versions apart by it
LANGUAGES = ("English (en)", "Serbian (sr)", "Albanian (sq)")

# type, name, (en, sr, sq) label, required, constraint, hint (en, sr, sq) or None
QUESTIONS = [
    ("start", "start", None, "", "", None),
    ("end", "end", None, "", "", None),
    (
        "integer",
        kobo.APPLICATION,
        ("Application number", "Broj prijave", "Numri i aplikimit"),
        "yes",
        ". > 0",
        ("As on the application's page.", "Kao na stranici prijave.", "Si në faqen e aplikimit."),
    ),
    (
        "integer",
        kobo.MONTHS,
        (
            "Visit (months after delivery)",
            "Poseta praćenja (meseci posle isporuke)",
            "Vizita e monitorimit (muaj pas dorëzimit)",
        ),
        "yes",
        ". >= 1 and . <= 120",
        ("For example 3, 6 or 12.", "Na primer 3, 6 ili 12.", "Për shembull 3, 6 ose 12."),
    ),
    (
        "date",
        kobo.VISITED_ON,
        ("Visited on", "Datum posete", "Data e vizitës"),
        "yes",
        ". <= today()",
        None,
    ),
    (
        "select_one yes_no",
        kobo.OPERATING,
        ("Is the business operating?", "Da li biznis radi?", "A po funksionon biznesi?"),
        "yes",
        "",
        None,
    ),
    (
        "select_one yes_no",
        kobo.EQUIPMENT_IN_USE,
        ("Is the equipment in use?", "Da li se oprema koristi?", "A përdoret pajisja?"),
        "yes",
        "",
        None,
    ),
    (
        "decimal",
        kobo.MONTHLY_REVENUE,
        ("Monthly revenue", "Mesečni prihod", "Të ardhurat mujore"),
        "",
        ". >= 0",
        ("In the programme's currency.", "U valuti programa.", "Në monedhën e programit."),
    ),
    (
        "integer",
        kobo.JOBS["owner"],
        ("Jobs: owner", "Radna mesta: vlasnik", "Vende pune: pronari"),
        "",
        ". >= 0 and . <= 1000",
        None,
    ),
    (
        "integer",
        kobo.JOBS["family"],
        ("Jobs: family members", "Radna mesta: članovi porodice", "Vende pune: anëtarë të familjes"),
        "",
        ". >= 0 and . <= 1000",
        None,
    ),
    (
        "integer",
        kobo.JOBS["employees"],
        ("Jobs: employees", "Radna mesta: zaposleni", "Vende pune: të punësuar"),
        "",
        ". >= 0 and . <= 1000",
        None,
    ),
    ("text", kobo.NOTES, ("Notes", "Beleške", "Shënime"), "", f"string-length(.) <= {kobo.MAX_NOTES}", None),
    *[
        (
            "image",
            name,
            (f"Photo {n}", f"Fotografija {n}", f"Fotografia {n}"),
            "",
            "",
            None,
        )
        for n, name in enumerate(kobo.PHOTOS, start=1)
    ],
]
CHOICES = [
    ("yes_no", kobo.YES, ("Yes", "Da", "Po")),
    ("yes_no", kobo.NO, ("No", "Ne", "Jo")),
]
SETTINGS = {
    "form_title": "Monitoring visit",
    "form_id": kobo.FORM_ID,
    "version": VERSION,
    "default_language": LANGUAGES[0],
}


def rows():
    """{sheet: [rows]}: what the workbook holds, cell by cell."""
    survey = [
        [
            "type",
            "name",
            *[f"label::{lang}" for lang in LANGUAGES],
            "required",
            "constraint",
            *[f"hint::{lang}" for lang in LANGUAGES],
            "parameters",
        ]
    ]
    for kind, name, labels, required, constraint, hints in QUESTIONS:
        # Photos are scaled on the phone: quicker to send, and within the upload limit.
        parameters = "max-pixels=2048" if kind == "image" else ""
        survey.append(
            [
                kind,
                name,
                *(labels or ("", "", "")),
                required,
                constraint,
                *(hints or ("", "", "")),
                parameters,
            ]
        )
    choices = [["list_name", "name", *[f"label::{lang}" for lang in LANGUAGES]]]
    choices += [[list_name, name, *labels] for list_name, name, labels in CHOICES]
    settings = [list(SETTINGS), list(SETTINGS.values())]
    return {"survey": survey, "choices": choices, "settings": settings}


def workbook():
    book = Workbook()
    book.remove(book.active)
    for title, sheet_rows in rows().items():
        sheet = book.create_sheet(title)
        for row in sheet_rows:
            sheet.append([value if value != "" else None for value in row])
    return book


def main(path=PATH):
    workbook().save(path)
    return path


if __name__ == "__main__":
    sys.stdout.write(f"{main()}\n")
