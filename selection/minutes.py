"""The minutes of a call's selection committee as a PDF: members, declarations, scores,
results, ranking and decisions.

Written in the programme's language (its country's: Serbian Latin, Albanian, else
English). Like the handover protocol (grants.handover) the wording is a fixed form kept
beside its layout. It names applications by number and business, never the person,
the centre or the target group, and the programme by its public label.
"""

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from audit import trail
from grants.pdf import FONTS, format_money

from . import selectors
from .models import Committee, Declaration, ReserveOffer, Scoring

LANGUAGES = {"RS": "sr-latn", "BA": "sr-latn", "ME": "sr-latn", "XK": "sq", "AL": "sq"}

TEXT = {
    "en": {
        "title": "Minutes of the selection committee",
        "programme": "Programme",
        "call": "Call",
        "dates": "Open",
        "budget": "Budget share",
        "method": "Result",
        "mean": "mean of the members' scores",
        "median": "median of the members' scores",
        "members": "Members",
        "chair": "chair",
        "declarations": "Declarations of conflict of interest",
        "conflict": "conflict declared",
        "no_conflict": "no conflict",
        "scores": "Scores (weighted, 1–5)",
        "ranking": "Ranking and results",
        "rank": "No.",
        "application": "Application",
        "result": "Result",
        "spread": "Spread",
        "amount": "Amount",
        "cumulative": "Cumulative",
        "recommendation": "Recommendation",
        "fund": "fund",
        "reserve": "reserve",
        "do_not_fund": "do not fund",
        "decisions": "Decisions",
        "list_approved": "Ranked list approved by {name} on {date}.",
        "list_open": "The ranked list has not been approved yet.",
        "approved": "#{id} approved by {name} on {date}",
        "offer": "#{id}: reserve offer ({reason}), {status}",
        "none": "None.",
        "page": "Call {call} – page {page} of {pages}",
    },
    "sr-latn": {
        "title": "Zapisnik komisije za izbor",
        "programme": "Program",
        "call": "Poziv",
        "dates": "Otvoren",
        "budget": "Deo budžeta",
        "method": "Rezultat",
        "mean": "prosek ocena članova",
        "median": "medijana ocena članova",
        "members": "Članovi",
        "chair": "predsedavajući",
        "declarations": "Izjave o sukobu interesa",
        "conflict": "prijavljen sukob interesa",
        "no_conflict": "nema sukoba interesa",
        "scores": "Ocene (ponderisane, 1–5)",
        "ranking": "Rang-lista i rezultati",
        "rank": "Br.",
        "application": "Prijava",
        "result": "Rezultat",
        "spread": "Raspon",
        "amount": "Iznos",
        "cumulative": "Zbirno",
        "recommendation": "Preporuka",
        "fund": "finansirati",
        "reserve": "rezerva",
        "do_not_fund": "ne finansirati",
        "decisions": "Odluke",
        "list_approved": "Rang-lista je odobrena {date}; odobrenje: {name}.",
        "list_open": "Rang-lista još nije odobrena.",
        "approved": "#{id} odobreno {date}; odobrenje: {name}",
        "offer": "#{id}: ponuda sa rezervne liste ({reason}), {status}",
        "none": "Nema.",
        "page": "Poziv {call} – strana {page} od {pages}",
    },
    "sq": {
        "title": "Procesverbali i komisionit të përzgjedhjes",
        "programme": "Programi",
        "call": "Thirrja",
        "dates": "E hapur",
        "budget": "Pjesa e buxhetit",
        "method": "Rezultati",
        "mean": "mesatarja e pikëve të anëtarëve",
        "median": "mediana e pikëve të anëtarëve",
        "members": "Anëtarët",
        "chair": "kryesues",
        "declarations": "Deklaratat e konfliktit të interesit",
        "conflict": "konflikt i deklaruar",
        "no_conflict": "pa konflikt",
        "scores": "Pikët (të peshuara, 1–5)",
        "ranking": "Renditja dhe rezultatet",
        "rank": "Nr.",
        "application": "Aplikacioni",
        "result": "Rezultati",
        "spread": "Shpërndarja",
        "amount": "Shuma",
        "cumulative": "Gjithsej",
        "recommendation": "Rekomandimi",
        "fund": "financohet",
        "reserve": "rezervë",
        "do_not_fund": "nuk financohet",
        "decisions": "Vendimet",
        "list_approved": "Lista e renditjes u miratua nga {name} më {date}.",
        "list_open": "Lista e renditjes ende nuk është miratuar.",
        "approved": "#{id} u miratua nga {name} më {date}",
        "offer": "#{id}: ofertë nga lista rezervë ({reason}), {status}",
        "none": "Asnjë.",
        "page": "Thirrja {call} – faqja {page} nga {pages}",
    },
}


def language_of(call):
    return LANGUAGES.get(call.programme.country.code, "en")


def _name(user):
    return (user.get_full_name() or user.username) if user is not None else ""


def _date(value):
    return value.strftime("%d.%m.%Y") if value else ""


class _Minutes(FPDF):
    def __init__(self, text, call_id):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.text_for, self.call_id = text, call_id
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages("{nb}")

    def footer(self):
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.cell(
            0,
            5,
            self.text_for["page"].format(call=self.call_id, page=self.page_no(), pages="{nb}"),
            align="C",
        )

    def heading(self, words):
        self.ln(3)
        self.set_font("DejaVu", "B", 12)
        self.cell(0, 7, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("DejaVu", "", 10)

    def line(self, words):
        self.multi_cell(0, 6, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(call):
    """The minutes of `call` as PDF bytes (a handful of queries, whatever the size)."""
    language = language_of(call)
    text = TEXT[language]
    programme = call.programme
    committee = Committee.objects.filter(call=call).select_related("chair", "list_approved_by").first()
    members = list(committee.members.select_related("user")) if committee else []
    declarations = list(
        Declaration.objects.filter(member__committee__call=call)
        .select_related("member__user")
        .order_by("member_id", "application_id")
    )
    scorings = list(
        Scoring.objects.filter(member__committee__call=call)
        .select_related("member__user")
        .order_by("application_id", "member_id")
    )
    rows = selectors.ranked_list(call)
    approvers = {
        row.application.pk: row.application for row in rows if row.application.approved_at is not None
    }
    offers = list(ReserveOffer.objects.filter(call=call).order_by("created_at", "id"))

    pdf = _Minutes(text, call.pk)
    pdf.set_title(f"{text['title']} – {call.pk}")
    pdf.set_lang(language)
    pdf.set_creator("micro-grants")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 8, text["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 10)
    for label, value in (
        (text["programme"], str(programme.public_label)),
        (text["call"], f"{call.pk}"),
        (text["dates"], f"{_date(call.opens)} – {_date(call.closes)}"),
        (text["budget"], f"{format_money(call.budget, language)} {programme.currency}"),
        (text["method"], text[programme.committee_result]),
    ):
        pdf.line(f"{label}: {value}")

    pdf.heading(text["members"])
    for member in members:
        chair = f" ({text['chair']})" if committee.chair_id == member.user_id else ""
        pdf.line(f"{_name(member.user)}{chair}")
    if not members:
        pdf.line(text["none"])

    pdf.heading(text["declarations"])
    for declaration in declarations:
        verdict = text["conflict"] if declaration.conflict else text["no_conflict"]
        pdf.line(f"{_name(declaration.member.user)} – #{declaration.application_id}: {verdict}")
    if not declarations:
        pdf.line(text["none"])

    pdf.heading(text["scores"])
    for scoring in scorings:
        pdf.line(f"#{scoring.application_id} – {_name(scoring.member.user)}: {scoring.weighted}")
    if not scorings:
        pdf.line(text["none"])

    pdf.heading(text["ranking"])
    pdf.set_font("DejaVu", "", 8)
    with pdf.table(
        col_widths=(10, 52, 18, 16, 28, 28, 28),
        text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
        line_height=5,
    ) as table:
        table.row(
            [
                text["rank"],
                text["application"],
                text["result"],
                text["spread"],
                text["amount"],
                text["cumulative"],
                text["recommendation"],
            ]
        )
        for row in rows:
            table.row(
                [
                    str(row.rank),
                    f"#{row.application.pk} {row.application.business_name}",
                    str(row.result),
                    str(row.spread),
                    format_money(row.amount, language),
                    format_money(row.cumulative, language),
                    text[row.recommendation],
                ]
            )
    pdf.set_font("DejaVu", "", 10)

    pdf.heading(text["decisions"])
    if committee is not None and committee.list_approved_at:
        pdf.line(
            text["list_approved"].format(
                name=_name(committee.list_approved_by), date=_date(committee.list_approved_at)
            )
        )
    else:
        pdf.line(text["list_open"])
    approved_by = _approvers(approvers)
    for application in approvers.values():
        pdf.line(
            text["approved"].format(
                id=application.pk,
                name=approved_by.get(application.approved_by_id, ""),
                date=_date(application.approved_at),
            )
        )
    for offer in offers:
        pdf.line(text["offer"].format(id=offer.application_id, reason=offer.reason, status=offer.status))
    return bytes(pdf.output())


def _approvers(applications):
    ids = {app.approved_by_id for app in applications.values() if app.approved_by_id}
    return {user.pk: _name(user) for user in get_user_model().objects.filter(pk__in=ids)}


def response(call, *, by):
    """The minutes as a download; printing them is audited."""
    content = render(call)
    trail.record(action="selection_minutes_printed", actor=by, data={"call": call.pk})
    reply = HttpResponse(content, content_type="application/pdf")
    reply["Content-Disposition"] = f'inline; filename="minutes-call-{call.pk}.pdf"'
    reply["Cache-Control"] = "private, no-store"
    return reply
