"""Demo data: invented people, realistic equipment and prices, every workflow state.

Everything goes through the services, so the demo's audit trail, commitments and
permissions are exactly what real use produces."""

import base64
import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from applicants import roles
from applicants.consent import needed_purposes
from applicants.institutions import register_institution
from applicants.models import (
    WG_DOMAINS,
    Country,
    Institution,
    IntegrationCentre,
    ReferralInstitution,
    ReferralPartner,
    Sex,
)
from applicants.services import assign_staff, record_referral, register_applicant
from assessments.models import RubricCriterion
from assessments.services import (
    create_cohort,
    enrol,
    record_assessment,
    record_attendance,
    record_meeting,
    record_visit,
)
from complaints import services as complaint_services
from grants import documents, selectors, services
from grants.models import Call, ExchangeRate, GrantApplication, Programme, Supplier
from grants.services import procurement as buying
from grants.workflow import State
from selection import services as selection_services

DEMO_PASSWORD = "demo"  # noqa: S105 - demo data only, README says so
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - base32, docs/api.md; demo accounts only

FIRST = [
    "Marko",
    "Jelena",
    "Dragan",
    "Milica",
    "Nenad",
    "Ivana",
    "Bojan",
    "Sanja",
    "Arben",
    "Drita",
    "Besnik",
    "Vlora",
    "Fatmir",
    "Teuta",
    "Ilir",
    "Mirela",
    "Zoran",
    "Danijela",
    "Goran",
    "Ljiljana",
]
# The list alternates men's and women's names.
WOMEN_FIRST = FIRST[1::2]
MEN_FIRST = FIRST[0::2]

# Proportions like the programme's own (docs/design.md, "Facts for disaggregation"):
# about 40 % women, most people aged 25 to 49, about one in ten of those asked with a
# disability under the Washington Group cut-off, a few who prefer not to say.
SEX_SHARES = ((Sex.FEMALE, 40), (Sex.MALE, 55), (Sex.OTHER, 1), (Sex.NOT_SAID, 2), ("", 2))
AGE_SHARES = ((18, 24, 15), (25, 34, 35), (35, 49, 38), (50, 64, 12))
DISABILITY_CONSENT_SHARE = 0.85
DISABILITY_SHARE = 0.11


def person_facts(rnd, today):
    """(sex, date of birth, consent to the disability questions, their answers) of an
    invented person, in the proportions above; shared with the bench generator."""
    sex = rnd.choices([s for s, _w in SEX_SHARES], weights=[w for _s, w in SEX_SHARES])[0]
    low, high, _w = rnd.choices(AGE_SHARES, weights=[w for *_r, w in AGE_SHARES])[0]
    age = rnd.randint(low, high)
    birthday = date(today.year - age, today.month, min(today.day, 28))
    born = birthday - timedelta(days=rnd.randint(0, 364))
    consent = rnd.random() < DISABILITY_CONSENT_SHARE
    answers = {}
    if consent:
        answers = {domain: 1 if rnd.random() < 0.85 else 2 for domain in WG_DOMAINS}
        if rnd.random() < DISABILITY_SHARE:
            answers[rnd.choice(WG_DOMAINS)] = rnd.choice([3, 3, 3, 4])
    return str(sex), born, consent, answers


LAST = [
    "Petrović",
    "Jovanović",
    "Nikolić",
    "Stanković",
    "Ilić",
    "Marković",
    "Đorđević",
    "Pavlović",
    "Krasniqi",
    "Gashi",
    "Berisha",
    "Hoxha",
    "Shala",
    "Morina",
    "Bajrami",
    "Kelmendi",
    "Stojanović",
]
BUSINESSES = [
    (
        "Tailoring workshop",
        "crafts",
        [("Industrial sewing machine", 1, "620.00"), ("Overlock machine", 1, "480.00")],
    ),
    (
        "Carpentry shop",
        "crafts",
        [("Table saw", 1, "890.00"), ("Hand tool set", 1, "260.00"), ("Workbench", 2, "140.00")],
    ),
    ("Village bakery", "food", [("Bakery oven", 1, "1450.00"), ("Dough mixer", 1, "700.00")]),
    (
        "Greenhouse vegetables",
        "agriculture",
        [("Greenhouse 8 x 20 m", 1, "1600.00"), ("Drip irrigation kit", 1, "310.00")],
    ),
    ("Goat farm", "livestock", [("Dairy goats", 6, "210.00"), ("Milking equipment", 1, "380.00")]),
    (
        "Horse care services",
        "services",
        [("Saddle and tack set", 1, "540.00"), ("Farrier tools", 1, "420.00")],
    ),
    (
        "Bicycle repair",
        "services",
        [("Repair stand", 1, "180.00"), ("Tool kit", 1, "350.00"), ("Spare parts stock", 1, "400.00")],
    ),
    ("Hair salon", "services", [("Salon chair", 2, "260.00"), ("Hair dryer hood", 1, "330.00")]),
    ("Beekeeping", "agriculture", [("Beehives", 10, "95.00"), ("Honey extractor", 1, "410.00")]),
    ("Welding workshop", "construction", [("Inverter welder", 1, "760.00"), ("Angle grinder", 2, "120.00")]),
]
# How many demo applications end in each state (sum ≥ 40).
PLAN = {
    State.DRAFT: 5,
    State.SUBMITTED: 5,
    State.BUSINESS_TRAINING: 6,
    State.APPROVED: 5,
    State.EQUIPMENT_DELIVERED: 3,
    State.FOLLOW_UP: 4,
    State.COMPLETED: 4,
    State.REJECTED: 3,
    State.WITHDRAWN: 2,
    State.CANCELLED: 2,
    State.DISCONTINUED: 2,
}
RUBRIC = [
    ("viability", "Viability", "0.30"),
    ("skills", "Skills and experience", "0.20"),
    ("market", "Market", "0.20"),
    ("need", "Need", "0.15"),
    ("commitment", "Commitment", "0.15"),
]


def _register(**values):
    """A demo person who, on the paper form, also signed the separate consents their
    facts need (applicants.consent)."""
    needed = needed_purposes(target_groups=values["target_groups"], sensitive=values.get("sensitive"))
    return register_applicant(special_consents=needed, **values)


def tiny_pdf(*objects):
    """A PDF of the given objects (numbered from 1, the first the catalog) with the cross-
    reference table readers need."""
    body = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj%sendobj\n" % (number, obj)
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return body + (
        b"xref\n0 %d\n0000000000 65535 f \n%strailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, table, len(objects) + 1, len(body))
    )


TINY_PDF = tiny_pdf(
    b"<</Type/Catalog/Pages 2 0 R>>",
    b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
    b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>",
)


def totp_key_hex(secret=DEMO_TOTP_SECRET):
    return base64.b32decode(secret).hex()


def make_user(username, role, *, email=None, first_name="", last_name=""):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": email or f"{username}@demo.invalid",
            "first_name": first_name,
            "last_name": last_name,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    group = Group.objects.get(permissions__codename=f"role_{role}")
    user.groups.add(group)
    if role in roles.STAFF_ROLES:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.get_or_create(
            user=user, name="demo", defaults={"key": totp_key_hex(), "confirmed": True}
        )
    return user


def already_seeded():
    return get_user_model().objects.filter(username="officer").exists()


@transaction.atomic
def seed(stdout=None):
    if already_seeded():
        return False
    rnd = random.Random(20261127)  # noqa: S311 - reproducible demo data
    today = timezone.localdate()

    serbia = Country.objects.create(code="RS", name="Serbia")
    kosovo = Country.objects.create(code="XK", name="Kosovo")
    nis = IntegrationCentre.objects.create(country=serbia, name="Integration Centre Niš", municipality="Niš")
    sremska = IntegrationCentre.objects.create(
        country=serbia,
        name="Sremska Mitrovica Correctional Institution – social service",
        kind=IntegrationCentre.Kind.PRISON_SERVICE,
        municipality="Sremska Mitrovica",
    )
    prizren = IntegrationCentre.objects.create(
        country=kosovo, name="Integration Centre Prizren", municipality="Prizren"
    )
    centres = [nis, sremska, prizren]

    opens, closes = today - timedelta(days=500), today + timedelta(days=120)
    resocialisation = Programme.objects.create(
        name="Resocialisation: income after release",
        donor="Federal Foreign Office",
        country=serbia,
        currency="RSD",
        budget=Decimal("12000000.00"),
        ceiling=Decimal("350000.00"),
        target_groups=["former_inmate"],
        contract_rule="before_delivery",
        # about €1,000 in dinars; the history below was bought before purchase orders
        quote_threshold=Decimal("117000.00"),
        requires_purchase_orders=False,
        # The prisons' own workshops are equipped too (docs/design.md, "Institutional grantees").
        allows_institutions=True,
    )
    returnees = Programme.objects.create(
        name="Prospects at home: returnees' micro enterprises",
        donor="Ministry for Economic Cooperation",
        country=kosovo,
        currency="EUR",
        budget=Decimal("150000.00"),
        ceiling=Decimal("3500.00"),
        target_groups=["returnee", "socially_disadvantaged"],
        # As the organisation's Kosovo programme: the beneficiary signs, pays back 15 %
        # and registers the business before the equipment is handed over.
        own_contribution_percent=Decimal("15"),
        contract_rule="before_delivery",
        contribution_rule="before_delivery",
        registration_rule="before_procurement",
        requires_purchase_orders=False,
    )
    for programme in (resocialisation, returnees):
        Call.objects.create(
            programme=programme,
            name=f"{programme.name}: open call",
            opens=opens,
            closes=closes,
            revision_deadline=closes + timedelta(days=14),
            budget=programme.budget,
        )
        for position, (code, label, weight) in enumerate(RUBRIC):
            RubricCriterion.objects.create(
                programme=programme, criterion=code, label=label, weight=Decimal(weight), position=position
            )
    for month in range(0, 30):
        day = today.replace(day=1) - timedelta(days=30 * month)
        ExchangeRate.objects.get_or_create(
            currency="RSD",
            date=day,
            defaults={"units_per_eur": Decimal("117.100000") + Decimal(month % 5) / 10},
        )

    officer = make_user("officer", roles.FIELD_OFFICER, first_name="Ana", last_name="Officer")
    officer_prison = make_user("officer3", roles.FIELD_OFFICER, first_name="Petar", last_name="Officer")
    officer2 = make_user("officer2", roles.FIELD_OFFICER, first_name="Blerta", last_name="Officer")
    manager = make_user("manager", roles.PROGRAMME_MANAGER, first_name="Mila", last_name="Manager")
    finance = make_user("finance", roles.FINANCE_OFFICER, first_name="Fran", last_name="Finance")
    auditor = make_user("auditor", roles.AUDITOR, first_name="Aud", last_name="Auditor")
    assign_staff(user=officer, centre=nis)
    assign_staff(user=officer_prison, centre=sremska)
    assign_staff(user=officer2, centre=prizren)
    # Monitoring and evaluation across the centres; an auditor of one donor's programmes
    # (docs/permissions.md, "Scopes by programme and donor").
    mne = make_user("mne", roles.MNE_OFFICER, first_name="Ema", last_name="Evaluation")
    donor_auditor = make_user("donor_auditor", roles.AUDITOR, first_name="Dora", last_name="Donor")
    for user in (manager, finance, auditor, mne, donor_auditor):
        for centre in centres:
            assign_staff(user=user, centre=centre)
    services.set_programme_scope(user=donor_auditor, donors=[resocialisation.donor])
    # An outside organisation that refers people to the Niš centre; its account reads
    # what became of its referrals (the first person registered below).
    partner_user = make_user("partner", roles.REFERRAL_PARTNER, first_name="Rada", last_name="Partner")
    roma_association = ReferralPartner.objects.create(name="Roma Association Niš", country=serbia)
    roma_association.members.add(partner_user)

    applicant_user = make_user("applicant", roles.APPLICANT, first_name="Marko", last_name="Demić")
    applicant2_user = make_user("applicant2", roles.APPLICANT, first_name="Arta", last_name="Demaj")
    # The migration seeds the list; a flushed database (tests) is given them again.
    prison, _created = ReferralInstitution.objects.get_or_create(
        name="Sremska Mitrovica Correctional Institution",
        defaults={"kind": ReferralInstitution.Kind.PRISON, "country": serbia},
    )
    probation, _created = ReferralInstitution.objects.get_or_create(
        name="Povereništvo Niš", defaults={"kind": ReferralInstitution.Kind.PROBATION, "country": serbia}
    )
    people = [
        _register(
            by=officer,
            user=applicant_user,
            first_name="Marko",
            last_name="Demić",
            date_of_birth=today.replace(year=today.year - 34, day=1),
            sex="male",
            centre=nis,
            target_groups=["former_inmate", "socially_disadvantaged"],
            phone="064 123 4567",
            email="applicant@demo.invalid",
            municipality="Niš",
            consent_given=True,
            language="sr-latn",
            sensitive={
                "referral": prison,
                "release_month": today.replace(day=1) - timedelta(days=200),
            },
        ),
        _register(
            by=officer2,
            user=applicant2_user,
            first_name="Arta",
            last_name="Demaj",
            date_of_birth=today.replace(year=today.year - 29, day=1),
            sex="female",
            consent_disability=True,
            centre=prizren,
            target_groups=["returnee"],
            phone="+383 44 123 456",
            email="applicant2@demo.invalid",
            municipality="Prizren",
            consent_given=True,
            language="sq",
            sensitive={
                "returned_from": "Germany",
                "return_date": today - timedelta(days=400),
                **dict.fromkeys(WG_DOMAINS, 1),
            },
        ),
    ]
    record_referral(applicant=people[0], partner=roma_association, by=officer)

    def new_person(centre, officer_user, index):
        groups = ["former_inmate"] + (["socially_disadvantaged"] if index % 2 else [])
        sensitive = {
            "referral": prison if centre == sremska else probation,
            "release_month": today.replace(day=1) - timedelta(days=60 + index),
        }
        if centre == prizren:
            groups = ["returnee"] if index % 3 else ["socially_disadvantaged"]
            sensitive = (
                {"returned_from": "Germany", "return_date": today - timedelta(days=200 + index)}
                if index % 3
                else {}
            )
        sex, born, consent_disability, answers = person_facts(rnd, today)
        names = {"female": WOMEN_FIRST, "male": MEN_FIRST}.get(sex, FIRST)
        return _register(
            by=officer_user,
            first_name=rnd.choice(names),
            last_name=rnd.choice(LAST),
            date_of_birth=born,
            sex=sex,
            consent_disability=consent_disability,
            centre=centre,
            target_groups=groups,
            phone=f"+3816{rnd.randint(10000000, 99999999)}"
            if centre != prizren
            else f"+38344{rnd.randint(100000, 999999)}",
            household_size=rnd.randint(1, 7),
            dependants=rnd.randint(0, 4),
            municipality=centre.municipality,
            consent_given=True,
            language="sq" if centre == prizren else "sr-latn",
            sensitive={**sensitive, **answers},
        )

    officers = {nis.pk: officer, sremska.pk: officer_prison, prizren.pk: officer2}
    cohorts = {}
    for centre in centres:
        programme = returnees if centre == prizren else resocialisation
        dates = [today - timedelta(days=d) for d in (70, 63, 56, 49, 42)]
        cohorts[centre.pk] = create_cohort(
            by=officers[centre.pk],
            programme=programme,
            centre=centre,
            title="Start and run your business",
            session_dates=dates,
        )
        # Training as a service of its own: meetings held apart from the grants.
        for days, kind, participants in ((30, "business_training", 18), (12, "network", 26)):
            record_meeting(
                by=officers[centre.pk],
                programme=programme,
                centre=centre,
                held_on=today - timedelta(days=days),
                kind=kind,
                participants=participants,
            )

    index = 0
    used = set()
    for state, count in PLAN.items():
        for n in range(count):
            centre = centres[index % 3]
            officer_user = officers[centre.pk]
            programme = returnees if centre == prizren else resocialisation
            own = people[0] if centre == nis else people[1] if centre == prizren else None
            if own is not None and own.pk not in used:
                person = own
                used.add(own.pk)
            else:
                person = new_person(centre, officer_user, index)
            name, sector, items = BUSINESSES[index % len(BUSINESSES)]
            scale = Decimal("117") if programme.currency == "RSD" else Decimal("1")
            drive(
                state=state,
                person=person,
                programme=programme,
                officer=officer_user,
                manager=manager,
                finance=finance,
                cohort=cohorts[centre.pk],
                business=f"{name} {person.last_name}",
                sector=sector,
                items=[
                    {
                        "description": d,
                        "quantity": q,
                        "unit_cost": str((Decimal(c) * scale).quantize(Decimal("0.01"))),
                    }
                    for d, q, c in items
                ],
                rnd=rnd,
                variant=n,
            )
            index += 1
    seed_selecting_fairly(
        centre=nis,
        programme=resocialisation,
        officer=officer,
        manager=manager,
        finance=finance,
        cohort=cohorts[nis.pk],
        new_person=lambda i: new_person(nis, officer, i),
        rnd=rnd,
    )
    seed_prison_workshop(
        centre=sremska,
        programme=resocialisation,
        officer=officer_prison,
        manager=manager,
        finance=finance,
        cohort=cohorts[sremska.pk],
        rnd=rnd,
    )
    seed_procurement(centres=centres, finance=finance, programmes=(resocialisation, returnees), today=today)
    seed_selection(programme=returnees, centre=prizren, officer=officer2, manager=manager)
    register_possible_duplicate(officers)
    seed_complaints(centre=nis, manager=manager, officer=officer)
    return True


def seed_complaints(*, centre, manager, officer):
    """The safeguarding focal point, and three complaints at Niš: one from the public
    form still to acknowledge, one by phone (with a file) already resolved, one of
    misconduct for the focal point alone."""
    focal = make_user("focal", roles.SAFEGUARDING_FOCAL_POINT, first_name="Sara", last_name="Focal")
    submit = complaint_services.submit_complaint
    submit(
        by=None,
        channel="public_form",
        category="delay",
        description="I applied in spring and nobody has called me since.",
        language="sr-latn",
        centre=centre,
    )
    resolved, _code = submit(
        by=officer,
        channel="phone",
        category="equipment",
        description="The sewing machine delivered does not work.",
        language="sr-latn",
        centre=centre,
        name="Caller (demo)",
        attachment=SimpleUploadedFile(
            "machine-photo-note.pdf", TINY_PDF + b"%complaint\n", "application/pdf"
        ),
    )
    complaint_services.acknowledge_complaint(complaint=resolved, by=manager)
    complaint_services.resolve_complaint(
        complaint=resolved, by=manager, outcome="The supplier replaced the machine under warranty."
    )
    submit(
        by=None,
        channel="public_form",
        category="safeguarding",
        description="Demo case: read only by the safeguarding focal point.",
        language="en",
    )
    return focal


DEMO_SUPPLIERS = [
    # (name, tax number, address, IBAN, status)
    ("Tehno Alat d.o.o.", "100234561", "Bulevar Nemanjića 12, Niš", "RS35260005601001611379", "approved"),
    ("Agro Centar d.o.o.", "100234562", "Vojvode Mišića 4, Niš", "RS35105008123123123173", "approved"),
    (
        "Profi Oprema d.o.o.",
        "100234563",
        "Kralja Petra 20, Sremska Mitrovica",
        "RS68160005080001234523",
        "approved",
    ),
    ("Mega Market sh.p.k.", "810234564", "Rruga e Shkronjave 3, Prizren", "XK051212012345678906", "approved"),
    (
        "Ballkan Teknik sh.p.k.",
        "810234565",
        "Rruga Remzi Ademaj 8, Prizren",
        "XK391301001001001014",
        "approved",
    ),
    ("Nova Trgovina d.o.o.", "100234566", "Cara Dušana 1, Niš", "RS66908000000000123483", "pending"),
]


def seed_procurement(*, centres, finance, programmes, today):
    """Suppliers, quotes compared and chosen, and purchase orders: an approved one and
    one waiting for its approvals. From now on the returnees' programme buys through
    purchase orders (the other keeps its earlier practice, as existing programmes do)."""
    buyer = make_user("procurement", roles.PROCUREMENT_OFFICER, first_name="Petra", last_name="Procurement")
    buyer2 = make_user("procurement2", roles.PROCUREMENT_OFFICER, first_name="Luan", last_name="Procurement")
    for user in (buyer, buyer2):
        for centre in centres:
            assign_staff(user=user, centre=centre)
    suppliers = {}
    for name, tax_number, address, iban, status in DEMO_SUPPLIERS:
        supplier = buying.save_supplier(
            by=buyer, name=name, tax_number=tax_number, address=address, iban=iban
        )
        if status != Supplier.Status.PENDING:
            supplier = buying.vet_supplier(supplier=supplier, by=buyer, status=status)
        suppliers[name] = supplier
    buying.declare_conflict(
        by=buyer2, supplier=suppliers["Agro Centar d.o.o."], note="My brother-in-law works there."
    )
    local = {
        "RS": [s for s in suppliers.values() if s.iban.startswith("RS") and s.is_vetted],
        "XK": [s for s in suppliers.values() if s.iban.startswith("XK") and s.is_vetted],
    }
    for programme in programmes:
        programme.requires_purchase_orders = programme.currency == "EUR"
        programme.save(update_fields=["requires_purchase_orders"])
        waiting = (
            GrantApplication.objects.filter(
                programme=programme, state=State.APPROVED, deliveries__isnull=True
            )
            .select_related("programme__country")
            .order_by("pk")[:2]
        )
        for number, application in enumerate(waiting):
            if application.business_registered_on is None and programme.registration_rule:
                # The programme asks the business registered before it buys for it.
                officer = selectors.field_officers_of(application.centre_id).first()
                services.record_registration(
                    application=application,
                    by=officer,
                    number=f"81{application.pk:06d}",
                    registered_on=today - timedelta(days=12),
                )
            offers = local[programme.country.code]
            # Three quotes per item wherever the threshold needs them (Kosovo has two
            # local suppliers: a third from Serbia).
            offers = [*offers, *[s for s in local["RS"] if s not in offers]][:3]
            for item in application.items.all():
                for rank, supplier in enumerate(offers):
                    price = (item.unit_cost_granted * Decimal(["0.97", "1.00", "1.06"][rank])).quantize(
                        Decimal("0.01")
                    )
                    quote = SimpleUploadedFile(
                        f"quote-{supplier.tax_number}.pdf",
                        TINY_PDF + f"%quote {item.pk} {supplier.pk}\n".encode(),
                        "application/pdf",
                    )
                    offer = buying.add_quote(
                        item=item,
                        by=buyer2,
                        supplier=supplier,
                        unit_price=price,
                        quoted_on=today - timedelta(days=10),
                        valid_until=today + timedelta(days=50),
                        uploaded_file=quote,
                    )
                    if rank == 0:
                        buying.choose_quote(quote=offer, by=buyer2)
            order = buying.create_purchase_order(application=application, supplier=offers[0], by=buyer2)
            if number == 0:
                buying.approve_purchase_order(order=order, by=buyer)
                buying.approve_purchase_order(order=order, by=finance)


def seed_selecting_fairly(*, centre, programme, officer, manager, finance, cohort, new_person, rnd):
    """Issue 15 on the demo: a second grant in one household waiting for a manager's
    decision, a grant approved for less than was asked, and a cooperative's draft with
    its members."""
    items = [
        {"description": "Industrial sewing machine", "quantity": 1, "unit_cost": "72000.00"},
        {"description": "Overlock machine", "quantity": 1, "unit_cost": "56000.00"},
    ]
    common = {
        "programme": programme,
        "officer": officer,
        "manager": manager,
        "finance": finance,
        "cohort": cohort,
        "sector": "crafts",
        "items": items,
        "rnd": rnd,
    }
    # One household: the same family card number as a grant already approved.
    granted = GrantApplication.objects.filter(
        centre=centre, programme=programme, state=State.APPROVED
    ).first()
    if granted is not None:
        type(granted.applicant).objects.filter(pk=granted.applicant_id).update(household_ref="FK-2024-0117")
        sibling = new_person(900)
        type(sibling).objects.filter(pk=sibling.pk).update(household_ref="FK-2024-0117")
        drive(
            state=State.BUSINESS_TRAINING,
            person=sibling,
            business=f"Tailoring {sibling.last_name}",
            variant=1,
            **common,
        )
    # Approved for less than asked: the overlock machine removed, the other cheaper.
    reduced = drive(
        state=State.BUSINESS_TRAINING,
        person=new_person(901),
        business="Repairs and alterations",
        variant=1,
        **common,
    )
    machine, overlock = reduced.items.order_by("position")
    reduced = services.approve_reduced(
        application=reduced,
        by=manager,
        items={machine.pk: (1, Decimal("65000.00")), overlock.pk: (0, overlock.unit_cost)},
        reason="Repairs need no overlock; the supplier's quote for the machine is lower.",
    )
    bind_grant(reduced, officer=officer, finance=finance, complete=False)
    # A cooperative's draft: its contact person and two members.
    contact = new_person(902)
    cooperative = drive(
        state=State.DRAFT, person=contact, business="Sewing cooperative Niš", variant=1, **common
    )
    services.set_cooperative(
        application=cooperative,
        by=officer,
        is_cooperative=True,
        number="ZR-11-2025-0042",
        registered_on=timezone.localdate() - timedelta(days=90),
    )
    for index, role in ((903, "founder"), (904, "member")):
        services.add_member(
            application=cooperative,
            by=officer,
            applicant_id=new_person(index).pk,
            role=role,
            joined_on=timezone.localdate() - timedelta(days=90),
        )


def seed_prison_workshop(*, centre, programme, officer, manager, finance, cohort, rnd):
    """An institution as grantee: the prison's carpentry workshop, equipped and followed
    up like a person's business, counted as an institution in the figures."""
    workshop = register_institution(
        by=officer,
        centre=centre,
        name="Carpentry workshop of the Sremska Mitrovica Correctional Institution",
        kind=Institution.Kind.PRISON_WORKSHOP,
        registration_number="07012345",
        address="Fruškogorska 2",
        municipality=centre.municipality,
        contact_first_name="Zoran",
        contact_last_name="Radić",
        contact_date_of_birth=timezone.localdate().replace(year=timezone.localdate().year - 52, day=1),
        contact_phone="+381 22 123 456",
        contact_email="radionica.sm@demo.invalid",
        consent_given=True,
    )
    return drive(
        state=State.FOLLOW_UP,
        person=workshop.contact,
        institution=workshop,
        programme=programme,
        officer=officer,
        manager=manager,
        finance=finance,
        cohort=cohort,
        business="Carpentry workshop: machines for the trainees",
        sector="crafts",
        items=[
            {"description": "Table saw", "quantity": 1, "unit_cost": "165000.00"},
            {"description": "Thickness planer", "quantity": 1, "unit_cost": "120000.00"},
        ],
        rnd=rnd,
        variant=0,
    )


def register_possible_duplicate(officers):
    """The same person registered twice at a centre, while their first registration's
    grant waits in the approvals queue: the flag is shown there and holds the approval
    up until an officer decides it (issue 17)."""
    waiting = (
        GrantApplication.objects.filter(state=State.BUSINESS_TRAINING, assessments__is_current=True)
        .select_related("applicant")
        .order_by("pk")
        .first()
    )
    if waiting is None:
        return
    person = waiting.applicant
    _register(
        by=officers[person.centre_id],
        first_name=person.first_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth,
        centre=person.centre,
        target_groups=person.target_groups,
        phone=person.phone,
        municipality=person.municipality,
        consent_given=True,
        language=person.language,
    )


# The selection demo: (business, its equipment, requested EUR, scores of the chair, the
# external member and the officer, 1-5 on every criterion; None: a declared conflict).
SELECTION = [
    ("Bakery Krasniqi", "Bread oven", "2500.00", (5, 5, 4)),
    ("Car repair Berisha", "Hydraulic car lift", "2000.00", (4, 5, None)),
    ("Hair salon Gashi", "Salon chairs and hair dryers", "2200.00", (4, 4, 4)),
    ("Beekeeping Hoxha", "Beehives with frames", "1800.00", (2, 3, 2)),
]
SELECTION_BUDGET = Decimal("5000.00")


def seed_selection(*, programme, centre, officer, manager):
    """A second call of the returnees' programme, for Prizren, with its share of the
    budget and a committee of three (the manager chairs, an external member, the centre's
    officer, who declares a conflict on one application) that has scored four
    applications: two are funded, one is on the reserve list, one falls below the pass
    mark (docs/selection.md)."""
    today = timezone.localdate()
    first = programme.calls.get()
    first.budget -= SELECTION_BUDGET
    first.save(update_fields=["budget"])
    call = Call.objects.create(
        programme=programme,
        name="Spring selection 2026 – Prizren",
        opens=today - timedelta(days=10),
        closes=today + timedelta(days=20),
        revision_deadline=today + timedelta(days=30),
        budget=SELECTION_BUDGET,
    )
    call.centres.add(centre)
    external = make_user("committee", roles.COMMITTEE_MEMBER, first_name="Drita", last_name="Committee")
    selection_services.set_committee(call=call, chair=manager, members=[external, officer], by=manager)
    for number, (business, equipment, amount, scores) in enumerate(SELECTION):
        person = _register(
            by=officer,
            first_name=FIRST[number % len(FIRST)],
            last_name=business.split()[-1],
            date_of_birth=today.replace(year=today.year - 30 - number, day=1),
            centre=centre,
            target_groups=["returnee"],
            municipality=centre.municipality,
            consent_given=True,
            language="sq",
        )
        app = services.create_application(
            by=officer,
            applicant=person,
            programme=programme,
            call=call,
            business_name=business,
            sector="services",
            plan={
                "activity": f"{business}: a small business in Prizren.",
                "market": "The town and nearby villages.",
                "experience": "Years of work in the trade abroad.",
                "expected_monthly_revenue": "900",
                "expected_monthly_costs": "300",
            },
            items=[{"description": equipment, "quantity": 1, "unit_cost": amount}],
        )
        app = services.take_transition(application=app, name="submit", by=officer)
        for user, score in zip((manager, external, officer), scores, strict=True):
            selection_services.declare(application=app, by=user, conflict=score is None)
            if score is not None:
                rubric = {criterion.pk: score for criterion in programme.rubric.all()}
                selection_services.score(application=app, by=user, scores=rubric)
    return call


def drive(  # noqa: PLR0913
    *,
    state,
    person,
    programme,
    officer,
    manager,
    finance,
    cohort,
    business,
    sector,
    items,
    rnd,
    variant,
    institution=None,
):
    """Create one application (an institution's, with `institution`: `person` is its
    contact) and take it through the workflow to `state`."""
    today = timezone.localdate()
    by = person.user if person.user and variant % 2 == 0 else officer
    app = services.create_application(
        by=by,
        applicant=person,
        institution=institution,
        programme=programme,
        business_name=business,
        sector=sector,
        plan={
            "activity": f"{business}: production and sale in the municipality.",
            "market": "Neighbours, local shops and the weekly market.",
            "experience": "Vocational training and several years of informal work in the trade.",
            "expected_monthly_revenue": str(
                Decimal(rnd.randint(300, 1200)) * (117 if programme.currency == "RSD" else 1)
            ),
            "expected_monthly_costs": str(
                Decimal(rnd.randint(100, 400)) * (117 if programme.currency == "RSD" else 1)
            ),
            "jobs_planned": rnd.randint(1, 3),
        },
        items=items,
    )
    if app.assigned_officer_id is None:
        GrantApplication.objects.filter(pk=app.pk).update(assigned_officer=officer)
        app.refresh_from_db()
    if state == State.DRAFT:
        return app
    if state == State.WITHDRAWN and variant == 0:
        return services.take_transition(application=app, name="withdraw", by=by)
    app = services.take_transition(application=app, name="submit", by=by)
    if state == State.SUBMITTED:
        return app
    if state == State.WITHDRAWN:
        return services.take_transition(application=app, name="withdraw", by=officer)
    if state == State.REJECTED and variant == 0:
        return services.take_transition(
            application=app,
            name="reject",
            by=officer,
            comment="The plan does not show a market for the product.",
        )
    enrol(by=officer, cohort=cohort, application=app)
    app = services.take_transition(application=app, name="admit_to_training", by=officer)
    sessions = list(cohort.sessions.all())
    attended = len(sessions) if state != State.BUSINESS_TRAINING or variant % 3 else len(sessions) - 2
    for i, session in enumerate(sessions):
        record_attendance(by=officer, session=session, application=app, present=i < attended)
    if state == State.BUSINESS_TRAINING and variant % 2 == 0:
        return app
    recommendation = "reject" if state == State.REJECTED else "approve"
    record_assessment(
        by=officer,
        application=app,
        scores={code: rnd.randint(3, 5) if recommendation == "approve" else 2 for code, _l, _w in RUBRIC},
        recommendation=recommendation,
        reasons="Site visited; premises and skills fit the plan."
        if recommendation == "approve"
        else "Premises unsuitable.",
        site_visit_on=today - timedelta(days=20),
    )
    if state in (State.BUSINESS_TRAINING,):
        return app
    if state == State.REJECTED:
        return services.take_transition(
            application=app, name="reject", by=manager, comment="The assessment does not support the plan."
        )
    app = services.take_transition(
        application=app, name="approve", by=manager, comment="Approved by the grant committee."
    )
    if state != State.CANCELLED:
        bind_grant(app, officer=officer, finance=finance, complete=state != State.APPROVED or variant == 0)
    if state == State.APPROVED:
        if variant == 0:
            item = app.items.first()
            services.record_delivery_lines(
                application=app,
                by=finance,
                delivered_on=today - timedelta(days=3),
                supplier="Tehno Alat d.o.o.",
                invoice_number=f"INV-{app.pk}-1",
                lines=[{"item": item.pk, "quantity": 1, "actual_unit_cost": str(item.unit_cost)}],
            )
        return app
    if state == State.CANCELLED:
        return services.take_transition(
            application=app, name="cancel", by=manager, comment="The beneficiary moved abroad."
        )
    months_ago = {
        State.EQUIPMENT_DELIVERED: 0,
        State.FOLLOW_UP: 4 + variant * 2,
        State.COMPLETED: 13,
        State.DISCONTINUED: 7,
    }[state]
    delivered_on = today - timedelta(days=30 * months_ago + 2)
    services.record_delivery_lines(
        application=app,
        by=finance,
        delivered_on=delivered_on,
        supplier=rnd.choice(["Tehno Alat d.o.o.", "Agro Centar", "Mega Market sh.p.k."]),
        invoice_number=f"INV-{app.pk}",
        lines=[
            {
                "item": item.pk,
                "quantity": item.quantity,
                "actual_unit_cost": str(
                    (item.unit_cost * Decimal(rnd.choice(["0.95", "1.00", "1.04"]))).quantize(Decimal("0.01"))
                ),
                # The asset register: a serial number, and the programme's asset tag.
                "serial_number": f"SN-{app.pk:04d}-{item.position + 1}",
                "asset_tag": f"MG-{app.pk:05d}-{item.position + 1}",
            }
            for item in app.items.all()
        ],
    )
    protocol = SimpleUploadedFile(
        "handover-protocol-signed.pdf", TINY_PDF + f"%{app.pk}\n".encode(), "application/pdf"
    )
    documents.upload_document(application=app, by=finance, kind="handover_protocol", uploaded_file=protocol)
    app.refresh_from_db()
    if app.state == State.APPROVED:
        app = services.take_transition(application=app, name="record_delivery", by=finance)
    if state == State.EQUIPMENT_DELIVERED:
        return app
    app = services.take_transition(application=app, name="start_follow_up", by=officer)
    for visit in app.visits.order_by("months"):
        if visit.due_on > today:
            break
        operating = not (state == State.DISCONTINUED and visit.months >= 6)
        record_visit(
            by=officer,
            visit=visit,
            visited_on=visit.due_on,
            operating=operating,
            equipment_in_use=operating,
            monthly_revenue=str(Decimal(rnd.randint(200, 900)) * (117 if programme.currency == "RSD" else 1))
            if operating
            else "0",
            jobs={"owner": 1, "family": rnd.randint(0, 2), "employees": rnd.randint(0, 1)}
            if operating
            else {},
            notes="Business running; equipment in daily use." if operating else "Workshop closed.",
        )
    if state == State.FOLLOW_UP:
        return app
    if state == State.DISCONTINUED:
        return discontinue_demo_grant(app, officer)
    return services.take_transition(application=app, name="complete", by=officer)


def bind_grant(app, *, officer, finance, complete):
    """The grant contract of an approved grant: issued and printed, and (complete) signed,
    the business registered and the own contribution paid; otherwise half of it paid."""
    today = timezone.localdate()
    services.contract_pdf_for(application=app, by=finance)
    contribution = app.contribution_outstanding()
    if not complete:
        if contribution:
            services.record_contribution_payment(
                application=app,
                by=finance,
                amount=(contribution / 2).quantize(Decimal("0.01")),
                paid_on=today,
                reference=f"Bank statement {app.pk}/1",
            )
        return
    signed = SimpleUploadedFile(
        "contract-signed.pdf", TINY_PDF + f"%contract {app.pk}\n".encode(), "application/pdf"
    )
    documents.upload_document(application=app, by=finance, kind="signed_contract", uploaded_file=signed)
    services.record_registration(
        application=app, by=officer, number=f"81{app.pk:06d}", registered_on=today - timedelta(days=5)
    )
    if contribution:
        services.record_contribution_payment(
            application=app,
            by=finance,
            amount=contribution,
            paid_on=today,
            reference=f"Bank statement {app.pk}",
        )


DEMO_LOGINS = [
    ("applicant", "applicant", "Integration Centre Niš (Serbia)"),
    ("officer", "field officer", "Integration Centre Niš (Serbia)"),
    ("applicant2", "applicant", "Integration Centre Prizren (Kosovo)"),
    ("officer2", "field officer", "Integration Centre Prizren (Kosovo)"),
    ("officer3", "field officer", "Sremska Mitrovica prison social service"),
    ("manager", "programme manager", "all centres"),
    ("finance", "finance officer", "all centres"),
    ("auditor", "auditor", "reports only"),
    ("donor_auditor", "auditor of one donor", "the Federal Foreign Office's programme only"),
    ("mne", "M&E officer", "visits and figures of all centres"),
    ("partner", "referral partner", "the Roma Association Niš's referrals"),
    ("procurement", "procurement officer", "all centres"),
    ("procurement2", "procurement officer", "all centres"),
    ("committee", "committee member", "the spring selection call in Prizren (Kosovo)"),
    ("focal", "safeguarding focal point", "complaints of sexual misconduct or abuse of power"),
]


def discontinue_demo_grant(app, officer):
    """A business closed: its first item reallocated to an approved grant of the same
    programme that still needs such an item (else recovered), the others sold or lost."""
    lines = list(selectors.undisposed_lines(app))
    outcomes = []
    for number, line in enumerate(lines):
        if number == 0:
            target = next(
                (t for t in selectors.reallocation_targets(officer, app) if t.quantity_due >= line.quantity),
                None,
            )
            outcomes.append(
                {"line": line.pk, "outcome": "reallocated", "to_item": target.pk}
                if target is not None
                else {"line": line.pk, "outcome": "recovered"}
            )
        elif number % 2:
            outcomes.append(
                {
                    "line": line.pk,
                    "outcome": "sold",
                    "proceeds": str((line.amount / 2).quantize(Decimal("0.01"))),
                }
            )
        else:
            outcomes.append({"line": line.pk, "outcome": "lost"})
    return services.discontinue_grant(
        application=app, by=officer, comment="The business closed after six months.", outcomes=outcomes
    )
