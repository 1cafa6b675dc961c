"""The grant contract as a PDF, in the beneficiary's language (en, sr-latn, sq): what is
given (the approved items at their granted quantity and unit cost), the beneficiary's
obligations (use for the business, no sale or pledge during the monitoring period,
monitoring visits, the own contribution, the registration where the programme asks for
it) and what happens on breach. As for the handover protocol (grants.handover), the
wording is a fixed form kept beside its layout; the programme is named by its public
label, never the centre or the target group."""

from fpdf.enums import XPos, YPos

from . import pdf
from .models import RuleTiming

TEXT = {
    "en": {
        "title": "Grant contract",
        "subtitle": "Grant in kind for a micro-enterprise",
        "number": "Contract no.",
        "issued": "Issued on",
        "programme": "Programme",
        "donor": "Donor",
        "grant": "Grant no.",
        "business": "Business",
        "beneficiary": "Beneficiary",
        "members": "Cooperative members",
        "national_id": "ID number",
        "municipality": "Municipality",
        "no": "No.",
        "item": "Equipment",
        "quantity": "Quantity",
        "unit": "Unit value",
        "value": "Value",
        "total": "Total",
        "articles": [
            (
                "Article 1. Subject",
                "The programme gives the beneficiary, as a grant in kind, the equipment listed "
                "below, worth {amount} {currency} in total. The equipment is bought by the "
                "programme and handed over against a signed handover protocol; no money is paid "
                "to the beneficiary.",
            ),
            (
                "Article 2. Use of the equipment",
                "The beneficiary uses the equipment for the business named above. During the "
                "monitoring period of {period} after the handover, the beneficiary does "
                "not sell, rent out, give away or pledge the equipment.",
            ),
            (
                "Article 3. Monitoring visits",
                "Programme staff visit the business {months} after the handover. The "
                "beneficiary lets them see the equipment and answers their questions about the "
                "business.",
            ),
            ("Article 4. Own contribution", None),
            ("Article 5. Breach of the contract", None),
            (
                "Article 6. Final provisions",
                "The contract is made in two copies, one for each party. It takes effect when "
                "both parties have signed it.",
            ),
        ],
        "contribution": (
            "The beneficiary pays an own contribution of {amount} {currency} ({percent} % of "
            "the approved amount) by {due} to the programme's account, stating the contract number."
        ),
        "no_contribution": "The programme asks for no own contribution.",
        "registration": "The beneficiary registers the business {when} and gives the programme the "
        "registration number and date.",
        "before_procurement": "before the equipment is ordered",
        "before_delivery": "before the equipment is handed over",
        "breach": (
            "If the beneficiary breaks an obligation of this contract, in particular if the "
            "equipment is sold, rented out, pledged or not used for the business, the programme "
            "may end the grant and the beneficiary returns the equipment, or pays its value, "
            "to the programme."
        ),
        "place_date": "Place and date",
        "beneficiary_sign": "Beneficiary (name and signature)",
        "programme_sign": "For the programme (name and signature)",
        "page": "Contract {number} · page {page}/{pages}",
    },
    "sr-latn": {
        "title": "Ugovor o dodeli granta",
        "subtitle": "Bespovratna pomoć u naturi za mikro preduzeće",
        "number": "Broj ugovora",
        "issued": "Datum izdavanja",
        "programme": "Program",
        "donor": "Donator",
        "grant": "Broj granta",
        "business": "Delatnost",
        "beneficiary": "Korisnik",
        "members": "Članovi zadruge",
        "national_id": "Broj lične isprave",
        "municipality": "Opština",
        "no": "R. br.",
        "item": "Oprema",
        "quantity": "Količina",
        "unit": "Jedinična vrednost",
        "value": "Vrednost",
        "total": "Ukupno",
        "articles": [
            (
                "Član 1. Predmet ugovora",
                "Program korisniku dodeljuje, kao bespovratnu pomoć u naturi, dole navedenu "
                "opremu ukupne vrednosti {amount} {currency}. Opremu kupuje program i predaje je "
                "uz potpisan zapisnik o primopredaji; korisniku se ne isplaćuje novac.",
            ),
            (
                "Član 2. Korišćenje opreme",
                "Korisnik koristi opremu za gore navedenu delatnost. Tokom perioda praćenja od "
                "{period} nakon primopredaje korisnik ne sme prodati, iznajmiti, pokloniti "
                "niti založiti opremu.",
            ),
            (
                "Član 3. Posete praćenja",
                "Predstavnici programa posetiće korisnika {months} nakon primopredaje. "
                "Korisnik im omogućava uvid u opremu i odgovara na pitanja o poslovanju.",
            ),
            ("Član 4. Sopstveno učešće", None),
            ("Član 5. Kršenje ugovora", None),
            (
                "Član 6. Završne odredbe",
                "Ugovor je sačinjen u dva primerka, po jedan za svaku ugovornu stranu. Stupa na "
                "snagu kada ga potpišu obe strane.",
            ),
        ],
        "contribution": (
            "Korisnik uplaćuje sopstveno učešće od {amount} {currency} ({percent} % odobrenog "
            "iznosa) do {due} na račun programa, uz navođenje broja ugovora."
        ),
        "no_contribution": "Program ne traži sopstveno učešće.",
        "registration": "Korisnik registruje delatnost {when} i programu dostavlja registarski broj "
        "i datum registracije.",
        "before_procurement": "pre naručivanja opreme",
        "before_delivery": "pre primopredaje opreme",
        "breach": (
            "Ako korisnik prekrši obavezu iz ovog ugovora, a naročito ako opremu proda, iznajmi, "
            "založi ili je ne koristi za delatnost, program može raskinuti ugovor, a korisnik "
            "vraća opremu ili programu plaća njenu vrednost."
        ),
        "place_date": "Mesto i datum",
        "beneficiary_sign": "Korisnik (ime, prezime i potpis)",
        "programme_sign": "Za program (ime, prezime i potpis)",
        "page": "Ugovor {number} · strana {page}/{pages}",
    },
    "sq": {
        "title": "Kontrata e grantit",
        "subtitle": "Grant në natyrë për një mikrondërmarrje",
        "number": "Numri i kontratës",
        "issued": "Lëshuar më",
        "programme": "Programi",
        "donor": "Donatori",
        "grant": "Numri i grantit",
        "business": "Biznesi",
        "beneficiary": "Përfituesi",
        "members": "Anëtarët e kooperativës",
        "national_id": "Numri personal",
        "municipality": "Komuna",
        "no": "Nr.",
        "item": "Pajisja",
        "quantity": "Sasia",
        "unit": "Vlera për njësi",
        "value": "Vlera",
        "total": "Gjithsej",
        "articles": [
            (
                "Neni 1. Objekti i kontratës",
                "Programi i jep përfituesit, si grant në natyrë, pajisjet e renditura më poshtë, "
                "me vlerë të përgjithshme {amount} {currency}. Pajisjet i blen programi dhe i "
                "dorëzon me procesverbal të nënshkruar; përfituesit nuk i paguhen para.",
            ),
            (
                "Neni 2. Përdorimi i pajisjeve",
                "Përfituesi i përdor pajisjet për biznesin e përmendur më sipër. Gjatë periudhës "
                "së monitorimit prej {period_count} muajsh pas dorëzimit, përfituesi nuk i shet, nuk i "
                "jep me qira, nuk i dhuron dhe nuk i lë peng pajisjet.",
            ),
            (
                "Neni 3. Vizitat e monitorimit",
                "Stafi i programit do ta vizitojë biznesin {months} pas dorëzimit. "
                "Përfituesi u lejon të shohin pajisjet dhe u përgjigjet pyetjeve për biznesin.",
            ),
            ("Neni 4. Kontributi vetjak", None),
            ("Neni 5. Shkelja e kontratës", None),
            (
                "Neni 6. Dispozitat përfundimtare",
                "Kontrata hartohet në dy kopje, një për secilën palë. Hyn në fuqi kur e "
                "nënshkruajnë të dyja palët.",
            ),
        ],
        "contribution": (
            "Përfituesi paguan një kontribut vetjak prej {amount} {currency} ({percent} % e "
            "shumës së miratuar) deri më {due} në llogarinë e programit, duke shënuar numrin e "
            "kontratës."
        ),
        "no_contribution": "Programi nuk kërkon kontribut vetjak.",
        "registration": "Përfituesi e regjistron biznesin {when} dhe ia jep programit numrin dhe "
        "datën e regjistrimit.",
        "before_procurement": "para porositjes së pajisjeve",
        "before_delivery": "para dorëzimit të pajisjeve",
        "breach": (
            "Nëse përfituesi shkel një detyrim të kësaj kontrate, veçanërisht nëse pajisjet i "
            "shet, i jep me qira, i lë peng ose nuk i përdor për biznesin, programi mund ta "
            "ndërpresë grantin dhe përfituesi i kthen pajisjet ose ia paguan programit vlerën e tyre."
        ),
        "place_date": "Vendi dhe data",
        "beneficiary_sign": "Përfituesi (emri, mbiemri dhe nënshkrimi)",
        "programme_sign": "Për programin (emri, mbiemri dhe nënshkrimi)",
        "page": "Kontrata {number} · faqja {page}/{pages}",
    },
}


def _percent(value, language):
    text = f"{value.normalize():f}"
    return text if language == "en" else text.replace(".", ",")


def _contribution(contract, text, language, currency):
    if not contract.contribution_amount:
        return text["no_contribution"]
    return text["contribution"].format(
        amount=pdf.format_money(contract.contribution_amount, language),
        currency=currency,
        percent=_percent(contract.contribution_percent, language),
        due=pdf.format_date(contract.contribution_due_on),
    )


def render(contract, *, signer_name=""):
    """The contract as PDF bytes, in the language it was issued in."""
    application = contract.application
    language = contract.language if contract.language in TEXT else "en"
    text = TEXT[language]
    programme, applicant = application.programme, application.applicant
    currency = programme.currency
    form = pdf.Form(text["page"].replace("{number}", contract.number))
    form.start(
        title=text["title"],
        subtitle=text["subtitle"],
        language=language,
        document_title=f"{text['title']} {contract.number}",
    )
    facts = [
        (text["number"], contract.number),
        (text["issued"], pdf.format_date(contract.issued_on)),
        (text["programme"], programme.public_label),
        (text["donor"], programme.donor),
        (text["grant"], str(application.pk)),
        *pdf.beneficiary_facts(application, text),
    ]
    form.facts(facts)

    months = programme.visit_months or []
    values = {
        "amount": pdf.format_money(contract.approved_amount, language),
        "currency": currency,
        "period": pdf.months_phrase([max(months)] if months else [12], language),
        # (Albanian says "prej 12 muajsh": the ablative, written beside the number)
        "period_count": str(max(months)) if months else "12",
        "months": pdf.months_phrase(months, language),
    }
    fourth = _contribution(contract, text, language, currency)
    if programme.registration_rule:
        when = text[RuleTiming(programme.registration_rule).value]
        fourth = f"{fourth} {text['registration'].format(when=when)}"
    bodies = {3: fourth, 4: text["breach"]}
    for index, (heading, body) in enumerate(text["articles"]):
        form.paragraph(heading, bold=True)
        form.paragraph(body.format(**values) if body else bodies[index])
        form.ln(1)
        if index == 0:
            _items_table(form, application, text, language, currency, contract.approved_amount)
    form.signatures(
        place_date=text["place_date"],
        left_label=text["beneficiary_sign"],
        right_label=text["programme_sign"],
        left_name=applicant.full_name,
        right_name=signer_name,
    )
    return form.content()


def _items_table(form, application, text, language, currency, total):
    form.set_font("DejaVu", "", 9)
    with form.table(
        col_widths=(10, 86, 20, 33, 33),
        text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=6,
    ) as table:
        table.row(
            [
                text["no"],
                text["item"],
                text["quantity"],
                f"{text['unit']} ({currency})",
                f"{text['value']} ({currency})",
            ]
        )
        number = 0
        for item in application.items.order_by("position", "id"):
            if not item.quantity_granted:
                continue
            number += 1
            table.row(
                [
                    str(number),
                    item.description,
                    str(item.quantity_granted),
                    pdf.format_money(item.unit_cost_granted, language),
                    pdf.format_money(item.approved_total, language),
                ]
            )
        table.row(["", text["total"], "", "", f"{pdf.format_money(total, language)} {currency}"])
    form.set_font("DejaVu", "", 10)
    form.cell(0, 4, "", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
