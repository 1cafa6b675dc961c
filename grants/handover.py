"""The handover protocol: a PDF listing the equipment of a grant, to print, have the
beneficiary sign on handover, and upload back (kind `handover_protocol`).

Written in the beneficiary's language (en, sr-latn, sq). The wording is a fixed form,
kept here beside its layout rather than in the interface's message catalogue: a signed
legal text changes with the layout and is reviewed as a whole. It names the grant, the
business, the beneficiary and the equipment, never the centre or the target group.
"""

from django.utils.translation import gettext_lazy as _
from fpdf.enums import XPos, YPos

from audit import trail
from core.errors import Conflict, require
from core.money import ZERO, cents

from . import pdf, permissions
from .models import DeliveryLine
from .workflow import State

PRINTABLE_STATES = {State.APPROVED} | set(State.DELIVERED_OR_LATER)

TEXT = {
    "en": {
        "title": "Handover protocol",
        "subtitle": "Grant in kind: equipment handed over to the beneficiary",
        "programme": "Programme",
        "donor": "Donor",
        "grant": "Grant no.",
        "delivery": "Delivery no.",
        "supplier": "Supplier",
        "invoice": "Invoice no.",
        "business": "Business",
        "beneficiary": "Beneficiary",
        "members": "Cooperative members",
        "national_id": "ID number",
        "municipality": "Municipality",
        "no": "No.",
        "item": "Equipment",
        "date": "Delivered on",
        "quantity": "Quantity",
        "unit": "Unit value",
        "value": "Value",
        "total": "Total",
        "estimate": "* not delivered yet: value at the approved estimate",
        "statement": (
            "The beneficiary confirms having received the equipment listed above, complete and "
            "in working order. The equipment is a grant in kind: it is to be used for the business "
            "named above and is not to be sold, rented out or pledged during the monitoring period. "
            "Programme staff will visit the business {months} after the handover."
        ),
        "place_date": "Place and date",
        "beneficiary_sign": "Beneficiary (name and signature)",
        "officer_sign": "Handed over by (name and signature)",
        "page": "Grant {grant} · page {page}/{pages}",
    },
    "sr-latn": {
        "title": "Zapisnik o primopredaji opreme",
        "subtitle": "Bespovratna pomoć u naturi: oprema predata korisniku",
        "programme": "Program",
        "donor": "Donator",
        "grant": "Broj granta",
        "delivery": "Isporuka br.",
        "supplier": "Dobavljač",
        "invoice": "Broj fakture",
        "business": "Delatnost",
        "beneficiary": "Korisnik",
        "members": "Članovi zadruge",
        "national_id": "Broj lične isprave",
        "municipality": "Opština",
        "no": "R. br.",
        "item": "Oprema",
        "date": "Datum isporuke",
        "quantity": "Količina",
        "unit": "Jedinična vrednost",
        "value": "Vrednost",
        "total": "Ukupno",
        "estimate": "* još nije isporučeno: vrednost prema odobrenoj proceni",
        "statement": (
            "Potpisom korisnika potvrđuje se prijem gore navedene opreme, kompletne i ispravne. Oprema je "
            "bespovratna pomoć u naturi: koristi se za gore navedenu delatnost i ne sme se prodati, "
            "iznajmiti niti založiti tokom perioda praćenja. Predstavnici programa posetiće korisnika "
            "{months} nakon primopredaje."
        ),
        "place_date": "Mesto i datum",
        "beneficiary_sign": "Korisnik (ime, prezime i potpis)",
        "officer_sign": "Za program opremu predaje (ime, prezime i potpis)",
        "page": "Grant {grant} · strana {page}/{pages}",
    },
    "sq": {
        "title": "Procesverbal i dorëzimit të pajisjeve",
        "subtitle": "Grant në natyrë: pajisjet iu dorëzuan përfituesit",
        "programme": "Programi",
        "donor": "Donatori",
        "grant": "Numri i grantit",
        "delivery": "Dorëzimi nr.",
        "supplier": "Furnizuesi",
        "invoice": "Numri i faturës",
        "business": "Biznesi",
        "beneficiary": "Përfituesi",
        "members": "Anëtarët e kooperativës",
        "national_id": "Numri personal",
        "municipality": "Komuna",
        "no": "Nr.",
        "item": "Pajisja",
        "date": "Data e dorëzimit",
        "quantity": "Sasia",
        "unit": "Vlera për njësi",
        "value": "Vlera",
        "total": "Gjithsej",
        "estimate": "* ende e padorëzuar: vlera sipas vlerësimit të miratuar",
        "statement": (
            "Përfituesi konfirmon se ka pranuar pajisjet e renditura më sipër, të plota dhe në "
            "gjendje pune. Pajisjet janë grant në natyrë: përdoren për biznesin e përmendur më sipër "
            "dhe nuk lejohet të shiten, të jepen me qira apo të lihen peng gjatë periudhës së "
            "monitorimit. Stafi i programit do ta vizitojë biznesin {months} pas dorëzimit."
        ),
        "place_date": "Vendi dhe data",
        "beneficiary_sign": "Përfituesi (emri, mbiemri dhe nënshkrimi)",
        "officer_sign": "Dorëzoi (emri, mbiemri dhe nënshkrimi)",
        "page": "Granti {grant} · faqja {page}/{pages}",
    },
}


language_of = pdf.language_of
format_money = pdf.format_money


def protocol_rows(application, delivery=None):
    """What the protocol lists: each delivery line recorded so far (date, actual unit
    cost), then whatever is still to deliver of each item at its approved estimate; for
    one `delivery`, its lines only (what that handover hands over).
    Rows are (description, delivered_on or None, quantity, unit value, value, estimate?)."""
    lines = DeliveryLine.objects.filter(delivery__application=application)
    if delivery is not None:
        lines = lines.filter(delivery=delivery)
    lines = list(
        lines.select_related("delivery", "item").order_by(
            "item__position", "item_id", "delivery__delivered_on", "id"
        )
    )
    delivered = {}
    by_item = {}
    for line in lines:
        delivered[line.item_id] = delivered.get(line.item_id, 0) + line.quantity
        by_item.setdefault(line.item_id, []).append(line)
    rows = []
    for item in application.items.order_by("position", "id"):
        for line in by_item.get(item.pk, []):
            rows.append(
                (
                    item.description,
                    line.delivery.delivered_on,
                    line.quantity,
                    cents(line.actual_unit_cost),
                    cents(line.amount),
                    False,
                )
            )
        due = item.quantity_granted - delivered.get(item.pk, 0)
        if due > 0 and delivery is None:
            rows.append(
                (item.description, None, due, cents(item.unit_cost), cents(item.unit_cost * due), True)
            )
    return rows


def render(application, *, officer_name="", delivery=None):
    """The protocol of `application` as PDF bytes: of the whole grant, or of one
    `delivery` (its lines, its date, supplier and invoice)."""
    language = language_of(application)
    text = TEXT[language]
    programme, applicant = application.programme, application.applicant
    currency = programme.currency
    form = pdf.Form(text["page"].replace("{grant}", str(application.pk)))
    form.start(
        title=text["title"],
        subtitle=text["subtitle"],
        language=language,
        document_title=f"{text['title']} – {application.pk}",
    )

    facts = [
        # The protocol leaves the office (beneficiary, supplier, donor's files) and finance
        # prints it: the programme by its public label, which never says prison or return.
        (text["programme"], programme.public_label),
        (text["donor"], programme.donor),
        (text["grant"], str(application.pk)),
        *(
            [
                (text["delivery"], f"{delivery.pk} · {delivery.delivered_on.strftime('%d.%m.%Y')}"),
                (text["supplier"], delivery.supplier),
                (text["invoice"], delivery.invoice_number),
            ]
            if delivery is not None
            else []
        ),
        *pdf.beneficiary_facts(application, text),
    ]
    form.facts(facts)

    rows = protocol_rows(application, delivery)
    total = sum((row[4] for row in rows), ZERO)
    form.set_font("DejaVu", "", 9)
    with form.table(
        col_widths=(10, 66, 26, 18, 30, 32),
        text_align=("RIGHT", "LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT"),
        line_height=6,
    ) as table:
        table.row(
            [
                text["no"],
                text["item"],
                text["date"],
                text["quantity"],
                f"{text['unit']} ({currency})",
                f"{text['value']} ({currency})",
            ]
        )
        for number, (description, delivered_on, quantity, unit, value, estimate) in enumerate(rows, 1):
            table.row(
                [
                    str(number),
                    description + (" *" if estimate else ""),
                    pdf.format_date(delivered_on),
                    str(quantity),
                    format_money(unit, language),
                    format_money(value, language),
                ]
            )
        table.row(["", text["total"], "", "", "", f"{format_money(total, language)} {currency}"])
    if any(row[5] for row in rows):
        form.set_font("DejaVu", "", 8)
        form.cell(0, 6, text["estimate"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    form.ln(4)
    form.paragraph(text["statement"].format(months=pdf.months_phrase(programme.visit_months, language)))
    form.signatures(
        place_date=text["place_date"],
        left_label=text["beneficiary_sign"],
        right_label=text["officer_sign"],
        left_name=applicant.full_name,
        right_name=officer_name,
    )
    return form.content()


def can_print_protocol(user, application):
    """Staff who record deliveries or see the grant's finances, at its centre."""
    return permissions.prints_signed_forms(
        user, application, _("Your role does not print handover protocols.")
    )


def protocol_for(*, application, by, delivery=None):
    """The PDF for `by` (of the whole grant, or of one of its deliveries), audited as a
    document of the application being produced. Raises NotAllowed/NotVisible, or
    Conflict before approval and after cancellation."""

    require(can_print_protocol(by, application))
    if application.state not in PRINTABLE_STATES:
        raise Conflict(
            _("A handover protocol is printed for approved grants only."),
            code="wrong_state",
        )
    officer = application.assigned_officer
    officer_name = (officer.get_full_name() or officer.username) if officer else ""
    content = render(application, officer_name=officer_name, delivery=delivery)
    trail.record(
        action="handover_protocol_printed",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={
            "language": language_of(application),
            **({"delivery": delivery.pk} if delivery is not None else {}),
        },
    )
    return content
