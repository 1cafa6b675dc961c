"""A purchase order as a PDF, to send to the supplier: the grant's chosen quotes from that
supplier, at the quoted prices, with the two approvals.

Written in the language of the programme's country (an order goes to a supplier there),
with the wording kept here beside its layout as for the handover protocol. It names the
programme by its public label, the grant by its number and business, never a person."""

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from audit import trail
from core.errors import require
from core.money import ZERO, cents

from . import procurement_permissions as rules
from .pdf import FONTS, format_money

# The language suppliers of each country read (the protocol's languages only).
COUNTRY_LANGUAGES = {"RS": "sr-latn", "ME": "sr-latn", "BA": "sr-latn", "XK": "sq", "AL": "sq"}

TEXT = {
    "en": {
        "title": "Purchase order",
        "draft": "Not approved yet: not valid as an order",
        "number": "Order no.",
        "date": "Date",
        "programme": "Programme",
        "donor": "Donor",
        "grant": "Grant no.",
        "business": "Delivered to the business",
        "supplier": "Supplier",
        "tax_number": "Tax number",
        "address": "Address",
        "iban": "Bank account (IBAN)",
        "no": "No.",
        "item": "Item",
        "quote": "Quote of",
        "quantity": "Quantity",
        "unit": "Unit price",
        "value": "Value",
        "total": "Total",
        "terms": (
            "Please deliver the items above at the quoted prices and invoice quoting the order number. "
            "The equipment is financed by the donor named above; deliveries without this order number "
            "are not paid."
        ),
        "approved_procurement": "Approved (procurement)",
        "approved_finance": "Approved (finance)",
        "page": "{number} · page {page}/{pages}",
    },
    "sr-latn": {
        "title": "Narudžbenica",
        "draft": "Još nije odobrena: ne važi kao narudžbina",
        "number": "Broj narudžbenice",
        "date": "Datum",
        "programme": "Program",
        "donor": "Donator",
        "grant": "Broj granta",
        "business": "Isporuka za delatnost",
        "supplier": "Dobavljač",
        "tax_number": "PIB",
        "address": "Adresa",
        "iban": "Račun (IBAN)",
        "no": "R. br.",
        "item": "Stavka",
        "quote": "Ponuda od",
        "quantity": "Količina",
        "unit": "Jedinična cena",
        "value": "Vrednost",
        "total": "Ukupno",
        "terms": (
            "Molimo isporučite gore navedene stavke po ponuđenim cenama i fakturišite uz broj ove "
            "narudžbenice. Oprema se finansira sredstvima gore navedenog donatora; isporuke bez broja "
            "ove narudžbenice neće biti plaćene."
        ),
        "approved_procurement": "Odobrenje (nabavka)",
        "approved_finance": "Odobrenje (finansije)",
        "page": "{number} · strana {page}/{pages}",
    },
    "sq": {
        "title": "Urdhër blerjeje",
        "draft": "Ende i pamiratuar: nuk vlen si porosi",
        "number": "Numri i urdhrit",
        "date": "Data",
        "programme": "Programi",
        "donor": "Donatori",
        "grant": "Numri i grantit",
        "business": "Dorëzohet te biznesi",
        "supplier": "Furnitori",
        "tax_number": "Numri fiskal",
        "address": "Adresa",
        "iban": "Llogaria bankare (IBAN)",
        "no": "Nr.",
        "item": "Artikulli",
        "quote": "Oferta e",
        "quantity": "Sasia",
        "unit": "Çmimi për njësi",
        "value": "Vlera",
        "total": "Gjithsej",
        "terms": (
            "Ju lutemi dorëzoni artikujt e mësipërm me çmimet e ofertës dhe faturoni duke përmendur "
            "numrin e urdhrit. Pajisjet financohen nga donatori i përmendur më sipër; dorëzimet pa "
            "numrin e këtij urdhri nuk paguhen."
        ),
        "approved_procurement": "Miratoi (prokurimi)",
        "approved_finance": "Miratoi (financat)",
        "page": "{number} · faqja {page}/{pages}",
    },
}


def language_of(order):
    return COUNTRY_LANGUAGES.get(order.programme.country.code, "en")


def order_rows(order):
    """(description, quote date, quantity, unit price, value) per ordered item."""
    quotes = order.quotes.select_related("item").order_by("item__position", "item_id")
    return [
        (
            q.item.description,
            q.quoted_on,
            q.item.quantity_granted,
            cents(q.unit_price),
            cents(q.unit_price * q.item.quantity_granted),
        )
        for q in quotes
    ]


def _name(user):
    return (user.get_full_name() or user.username) if user else ""


class _Order(FPDF):
    def __init__(self, text, number):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.text_for = text
        self.number = number
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
            self.text_for["page"].format(number=self.number, page=self.page_no(), pages="{nb}"),
            align="C",
        )


def render(order):
    """The order as PDF bytes."""
    language = language_of(order)
    text = TEXT[language]
    programme, application, supplier = order.programme, order.application, order.supplier
    currency = programme.currency
    pdf = _Order(text, order.number)
    pdf.set_title(f"{text['title']} {order.number}")
    pdf.set_lang(language)
    pdf.set_creator("micro-grants")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 8, f"{text['title']} {order.number}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not order.is_approved:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(0, 6, text["draft"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    facts = [
        (text["number"], order.number),
        (text["date"], order.created_at.strftime("%d.%m.%Y")),
        (text["programme"], str(programme.public_label)),
        (text["donor"], programme.donor),
        (text["grant"], str(application.pk)),
        (text["business"], application.business_name),
        (text["supplier"], supplier.name),
        (text["tax_number"], supplier.tax_number),
        (text["address"], supplier.address),
        (text["iban"], supplier.iban),
    ]
    for label, value in facts:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(50, 6, label)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    rows = order_rows(order)
    total = sum((row[4] for row in rows), ZERO)
    pdf.set_font("DejaVu", "", 9)
    with pdf.table(
        col_widths=(10, 70, 26, 18, 28, 30),
        text_align=("RIGHT", "LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT"),
        line_height=6,
    ) as table:
        table.row(
            [
                text["no"],
                text["item"],
                text["quote"],
                text["quantity"],
                f"{text['unit']} ({currency})",
                f"{text['value']} ({currency})",
            ]
        )
        for number, (description, quoted_on, quantity, unit, value) in enumerate(rows, 1):
            table.row(
                [
                    str(number),
                    description,
                    quoted_on.strftime("%d.%m.%Y"),
                    str(quantity),
                    format_money(unit, language),
                    format_money(value, language),
                ]
            )
        table.row(["", text["total"], "", "", "", f"{format_money(total, language)} {currency}"])
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 6, text["terms"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    for label, user, at in (
        (text["approved_procurement"], order.procurement_approved_by, order.procurement_approved_at),
        (text["approved_finance"], order.finance_approved_by, order.finance_approved_at),
    ):
        when = at.strftime("%d.%m.%Y") if at else "________"
        pdf.cell(
            0,
            6,
            f"{label}: {_name(user) or '______________________'} · {when}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    return bytes(pdf.output())


def purchase_order_for(*, order, by):
    """The PDF for `by`, audited. Raises NotAllowed/NotVisible."""
    require(rules.can_print_purchase_order(by, order))
    content = render(order)
    application = order.application
    trail.record(
        action="purchase_order_printed",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={"purchase_order": order.pk, "language": language_of(order)},
    )
    return content
