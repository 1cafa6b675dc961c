"""What the printed forms share (handover protocol, grant contract): the DejaVu fonts,
which cover Serbian Latin and Albanian letters, the page footer, amounts and month
lists as each language writes them, the block of facts and the signature lines."""

import logging
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.money import cents

FONTS = Path(__file__).resolve().parent / "fonts"
# fpdf2 subsets the fonts with fontTools, which logs every glyph table at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
LANGUAGES = ("en", "sr-latn", "sq")
# Thousands and decimal separators as each language writes amounts.
SEPARATORS = {"en": (",", "."), "sr-latn": (".", ","), "sq": (".", ",")}
AND = {"en": "and", "sr-latn": "i", "sq": "dhe"}


def language_of(application):
    """The beneficiary's language, English for any other."""
    language = application.applicant.language
    return language if language in LANGUAGES else "en"


def format_money(amount, language):
    """1234.5 → "1,234.50" (en) or "1.234,50" (sr-latn, sq), from the Decimal's digits."""
    thousands, decimal_mark = SEPARATORS[language]
    whole, fraction = f"{cents(amount):f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{thousands.join(groups) or '0'}{decimal_mark}{fraction}"


def format_date(day):
    return day.strftime("%d.%m.%Y") if day else ""


def months_list(months, language):
    """[3, 6, 12] → "3, 6 and 12" in the language."""
    months = [str(m) for m in sorted(months or [])]
    if len(months) <= 1:
        return "".join(months)
    return f"{', '.join(months[:-1])} {AND[language]} {months[-1]}"


def serbian_plural(number, one, few, many):
    """The noun form after `number`: 1 mesec, 3 meseca, 12 meseci (21 mesec, 22 meseca)."""
    if number % 10 == 1 and number % 100 != 11:
        return one
    if 2 <= number % 10 <= 4 and not 12 <= number % 100 <= 14:
        return few
    return many


def months_phrase(months, language):
    """[3, 6, 12] → "3, 6 and 12 months" ("3, 6 i 12 meseci", "3 meseca"): the legal
    texts are fixed forms outside the catalogue, so the noun agrees with the last number
    here."""
    months = sorted(months or []) or [12]
    last = months[-1]
    if language == "sr-latn":
        noun = serbian_plural(last, "mesec", "meseca", "meseci")
    elif language == "sq":
        noun = "muaj"
    else:
        noun = "month" if last == 1 else "months"
    return f"{months_list(months, language)} {noun}"


def beneficiary_facts(application, text):
    """The lines a signed form gives about who receives the grant (`text`: the form's
    wording in its language): the business, the person, their ID number and
    municipality where known, and a cooperative's members."""
    applicant = application.applicant
    facts = [(text["business"], application.business_name), (text["beneficiary"], applicant.full_name)]
    if applicant.national_id:
        facts.append((text["national_id"], applicant.national_id))
    if applicant.municipality:
        facts.append((text["municipality"], applicant.municipality))
    if application.is_cooperative:
        members = ", ".join(m.full_name for m in application.members.order_by("last_name", "first_name"))
        if members:
            facts.append((text["members"], members))
    return facts


class Form(FPDF):
    """An A4 page in DejaVu with a footer `footer_text.format(page=, pages=)`."""

    # The place and date, the space to sign, the lines, their labels and the names (mm).
    SIGNATURES_HEIGHT = 44

    def __init__(self, footer_text):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages("{nb}")

    def footer(self):
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.cell(0, 5, self.footer_text.format(page=self.page_no(), pages="{nb}"), align="C")

    def start(self, *, title, subtitle, language, document_title):
        self.set_title(document_title)
        self.set_lang(language)
        self.set_creator("micro-grants")
        self.add_page()
        self.set_font("DejaVu", "B", 15)
        self.cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("DejaVu", "", 10)
        self.cell(0, 6, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def facts(self, rows):
        """(label, value) lines."""
        for label, value in rows:
            self.set_font("DejaVu", "B", 10)
            self.cell(45, 6, label)
            self.set_font("DejaVu", "", 10)
            self.multi_cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)

    def paragraph(self, text, *, bold=False, size=10):
        self.set_font("DejaVu", "B" if bold else "", size)
        self.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def signatures(self, *, place_date, left_label, right_label, left_name, right_name):
        """The place and date, then two signature lines with their labels and names, kept
        together on one page."""
        if self.get_y() + self.SIGNATURES_HEIGHT > self.page_break_trigger:
            self.add_page()
        self.set_font("DejaVu", "", 10)
        self.ln(10)
        self.cell(0, 6, f"{place_date}: ______________________________", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(16)
        left, width = self.l_margin, 80
        right = self.w - self.r_margin - width
        y = self.get_y()
        self.line(left, y, left + width, y)
        self.line(right, y, right + width, y)
        self.set_xy(left, y + 1)
        self.cell(width, 5, left_label)
        self.set_xy(right, y + 1)
        self.cell(width, 5, right_label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("DejaVu", "B", 10)
        self.set_x(left)
        self.cell(width, 6, left_name)
        self.set_x(right)
        self.cell(width, 6, right_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def content(self):
        return bytes(self.output())
