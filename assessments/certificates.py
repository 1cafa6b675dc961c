"""The business-training completion certificate: a one-page PDF in the person's language.

It names the person, the course, its hours and dates, and nothing else: never where the
training took place, the centre, a prison, the programme or the target group, so that
the person can show it to any employer. The cohort's title is an officer's free text;
when it mentions a place or a group, the certificate uses a neutral course title.
"""

import datetime
import logging
import re
from decimal import Decimal
from pathlib import Path

from django.db.models import Max, Min, Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from fpdf import FPDF

from applicants import roles
from applicants.normalise import fold
from audit import trail
from core.decisions import ALLOWED, Decision
from core.errors import NotAllowed, ServiceError, require
from grants import permissions

# fontTools logs every subsetting step at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)
FONTS = Path(__file__).resolve().parent / "fonts"
NEUTRAL_TITLE = gettext_noop("Starting and running a small business")
# Folded (lower-case ASCII) words that give away a prison, a return, an integration
# centre or a target group, in English, Serbian and Albanian. Matched as word starts.
REVEALING = (
    "prison",
    "jail",
    "correction",
    "penitentiar",
    "inmate",
    "convict",
    "probation",
    "release",
    "resociali",
    "zatvor",
    "kazneno",
    "popravn",
    "osuden",
    "kpz",
    "kpd",
    "burg",
    "denuar",
    "return",
    "povrat",
    "readmis",
    "deport",
    "kthyer",
    "kthim",
    "riatdhes",
    "rikthye",
    "integration",
    "integraci",
    "integrim",
    "centre",
    "center",
    "centar",
    "qend",
    "roma",
    "romi",
    "romsk",
    "disadvantaged",
    "ugrozen",
    "vulnerable",
    "asylum",
    "azil",
)


def course_title(cohort):
    """The cohort's title if it reveals nothing; otherwise the neutral title."""
    title = " ".join(str(cohort.title).split())
    folded = f" {fold(title)} "
    places = [cohort.centre.name, cohort.centre.municipality, cohort.programme.name]
    reveals = any(re.search(rf"\b{re.escape(word)}", folded) for word in REVEALING) or any(
        f" {fold(place)} " in folded for place in places if fold(place)
    )
    return _(NEUTRAL_TITLE) if reveals or not title else title


def can_get_certificate(user, application):
    seen = permissions.can_view_application(user, application)
    if not seen:
        return seen
    if not roles.is_staff_member(user) and permissions.is_own(user, application):
        return ALLOWED
    if roles.has_role(user, roles.FIELD_OFFICER) or roles.has_role(user, roles.PROGRAMME_MANAGER):
        return ALLOWED
    return Decision(False, _("Only the person and their centre's officers print certificates."))


def _hours(value):
    value = Decimal(value).normalize()
    return formats.number_format(value, decimal_pos=0 if value == value.to_integral() else 1)


def completion_certificate(*, by, application, today=None):
    """(file name, PDF bytes) for the application's completed training; audited."""
    require(can_get_certificate(by, application))
    enrolment = (
        application.enrolments.filter(active=True)
        .select_related("cohort__centre", "cohort__programme")
        .first()
    )
    if enrolment is None or not enrolment.is_completed():
        raise ServiceError(
            _("The business training is not completed yet; the certificate comes after completion."),
            code="training_not_completed",
        )
    pdf_name, pdf = _certificate(enrolment, application.applicant, today)
    trail.record(
        action="certificate_issued",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={"enrolment": enrolment.pk},
    )
    return pdf_name, pdf


def direct_certificate(*, by, enrolment, today=None):
    """(file name, PDF bytes) for a completed training without a grant application
    (training as a service): the same neutral certificate; audited. The caller found
    the enrolment among those of the cohorts `by` may open."""
    if not (roles.has_role(by, roles.FIELD_OFFICER) or roles.has_role(by, roles.PROGRAMME_MANAGER)):
        raise NotAllowed(_("Only the person's centre's officers print certificates."))
    if not enrolment.active or not enrolment.is_completed():
        raise ServiceError(
            _("The training is not completed yet; the certificate comes after completion."),
            code="training_not_completed",
        )
    pdf_name, pdf = _certificate(enrolment, enrolment.applicant, today)
    trail.record(
        action="certificate_issued",
        actor=by,
        applicant=enrolment.applicant,
        data={"enrolment": enrolment.pk, "without_application": True},
    )
    return pdf_name, pdf


def _certificate(enrolment, person, today):
    cohort = enrolment.cohort
    span = cohort.sessions.aggregate(first=Min("date"), last=Max("date"), hours=Sum("hours"))
    language = person.language
    with translation.override(language):
        pdf = render(
            name=person.full_name,
            title=course_title(cohort),
            hours=span["hours"],
            first=span["first"],
            last=span["last"],
            number=f"{cohort.pk}-{enrolment.pk}",
            issued=today or timezone.localdate(),
            language=language,
        )
    return f"certificate-{cohort.pk}-{enrolment.pk}.pdf", pdf


def render(*, name, title, hours, first, last, number, issued, language):
    """The PDF itself, in the active language."""

    def day(value: datetime.date):
        return formats.date_format(value, "DATE_FORMAT")

    heading = _("Certificate of completion")
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(heading)
    pdf.set_lang(language)
    pdf.set_creator("")
    pdf.set_producer("")
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", FONTS / "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.add_page()
    pdf.set_line_width(1.2)
    pdf.rect(12, 12, pdf.w - 24, pdf.h - 24)

    def line(text, size, style="", gap=4):
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(0, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    pdf.set_y(38)
    line(heading, 30, "B", gap=12)
    line(_("This certifies that"), 15)
    line(name, 26, "B", gap=6)
    line(_("has completed the business training"), 15)
    line(title, 20, "B", gap=10)
    # The plural form follows the number of hours (a fraction: the form for many).
    count = int(hours) if Decimal(hours) == int(hours) else 5
    line(
        ngettext("Duration: %(hours)s hour", "Duration: %(hours)s hours", count) % {"hours": _hours(hours)},
        14,
        gap=2,
    )
    if first == last:
        held = _("Held on %(date)s") % {"date": day(first)}
    else:
        held = _("Held from %(start)s to %(end)s") % {"start": day(first), "end": day(last)}
    line(held, 14)

    pdf.set_y(pdf.h - 58)
    pdf.set_font("DejaVu", "", 11)
    pdf.set_x(pdf.w - 25 - 80)
    pdf.cell(80, 0, "", border="T")
    pdf.ln(2)
    pdf.set_x(pdf.w - 25 - 80)
    pdf.cell(80, 6, _("Trainer"), align="C")
    pdf.set_xy(25, pdf.h - 40)
    pdf.cell(
        0,
        6,
        _("Issued on %(date)s · Certificate no. %(number)s") % {"date": day(issued), "number": number},
        align="L",
    )
    return bytes(pdf.output())
