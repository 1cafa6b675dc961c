"""Institutions as grantees (issue 21 part 2, docs/design.md "Institutional grantees"): a
prison workshop goes from application to handover as a person's grant does, and the
figures count it apart from enterprises; an institution has no sensitive facts; who may
register and read institutions."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from applicants import institutions, roles, sensitivity
from applicants.models import Applicant, ApplicantSensitive, ConsentRecord, Institution
from assessments import services as training
from core.errors import NotAllowed, NotVisible, RuleNotMet, ServiceError
from grants import services
from grants.models import AuditEvent, GrantApplication
from grants.services import procurement as buying
from reports import donor
from reports import figures as reports

from .conftest import verified_login
from .factories import (
    RUBRIC,
    ApplicationFactory,
    InstitutionFactory,
    ProgrammeFactory,
    SupplierFactory,
    SupplierQuoteFactory,
    staff,
    upload_handover_protocol,
)

pytestmark = pytest.mark.django_db

PLAN = {
    "activity": "Tables and benches made by the workshop's trainees.",
    "market": "Schools and the municipality.",
    "experience": "The workshop has run for ten years.",
    "expected_monthly_revenue": "900.00",
    "expected_monthly_costs": "400.00",
    "jobs_planned": 6,
}


def today():
    return timezone.localdate()


def register(world, *, by=None, centre=None, **changes):
    values = {
        "name": "Carpentry workshop of the Niš correctional institution",
        "kind": Institution.Kind.PRISON_WORKSHOP,
        "registration_number": "07123456",
        "address": "Bulevar 12",
        "municipality": "Niš",
        "contact_first_name": "Dragan",
        "contact_last_name": "Ilić",
        "contact_date_of_birth": datetime.date(1975, 4, 1),
        "contact_phone": "064 1234567",
        "contact_email": "radionica@example.test",
        "consent_given": True,
        **changes,
    }
    return institutions.register_institution(by=by or world.officer, centre=centre or world.centre, **values)


@pytest.fixture
def programme(world):
    """A programme that takes institutions, buying with purchase orders."""
    return ProgrammeFactory(country=world.serbia, allows_institutions=True, requires_purchase_orders=True)


def draft(world, programme, institution, **kwargs):
    return services.create_application(
        by=world.officer,
        institution=institution,
        programme=programme,
        business_name="Workshop machines",
        sector="crafts",
        plan=PLAN,
        items=[{"description": "Table saw", "quantity": 1, "unit_cost": "1450.00"}],
        **kwargs,
    )


def step(application, name, by, comment=""):
    return services.take_transition(application=application, name=name, by=by, comment=comment)


def walk_to_handover(world, application):
    """Submitted, trained, assessed, approved, bought against an approved order,
    delivered and handed over: every step through the services."""
    application = step(application, "submit", world.officer)
    cohort = training.create_cohort(
        by=world.officer,
        programme=application.programme,
        centre=world.centre,
        title="Running a workshop",
        session_dates=[today() - datetime.timedelta(days=2), today() - datetime.timedelta(days=1)],
    )
    training.enrol(by=world.officer, cohort=cohort, application=application)
    application = step(application, "admit_to_training", world.officer)
    for session in cohort.sessions.all():
        training.record_attendance(by=world.officer, session=session, application=application, present=True)
    training.record_assessment(
        by=world.colleague,
        application=application,
        scores={code: 4 for code, _label, _weight in RUBRIC},
        recommendation="approve",
    )
    application = step(application, "approve", world.manager)
    assert application.state == "approved"
    item = application.items.get()
    cheapest, *_dearer = [
        SupplierQuoteFactory(item=item, supplier=SupplierFactory(), unit_price=Decimal(price))
        for price in ("1400.00", "1500.00", "1600.00")
    ]
    buying.choose_quote(quote=cheapest, by=world.procurement)
    order = buying.create_purchase_order(
        application=application, supplier=cheapest.supplier, by=world.procurement
    )
    buying.approve_purchase_order(order=order, by=world.finance)
    second = staff(roles.PROCUREMENT_OFFICER, world.centre, username="buyer2")
    buying.approve_purchase_order(order=order, by=second)
    services.record_delivery_lines(
        application=application,
        by=world.finance,
        delivered_on=today(),
        invoice_number="INV-77",
        lines=[{"item": item.pk, "quantity": 1, "actual_unit_cost": "1400.00"}],
        purchase_order=order,
    )
    upload_handover_protocol(application, world.finance)
    application.refresh_from_db()
    return application


# ---- the acceptance: application to handover, counted apart -----------------------------


class TestPrisonWorkshopGrant:
    def test_a_prison_workshop_goes_from_application_to_handover_and_counts_as_an_institution(
        self, world, programme, api
    ):
        # A person's grant delivered in the same programme, for comparison.
        ApplicationFactory(applicant=world.person, programme=programme, delivered=True)
        institution = register(world)
        application = draft(world, programme, institution)
        assert application.institution == institution
        assert application.applicant == institution.contact
        assert application.centre == world.centre

        application = walk_to_handover(world, application)

        assert application.state == "equipment_delivered"
        assert application.delivered_at is not None
        actions = list(AuditEvent.objects.filter(application=application).values_list("action", flat=True))
        for action in ("create", "submit", "admit_to_training", "approve", "record_delivery"):
            assert action in actions
        assert AuditEvent.objects.filter(
            action="register_institution", applicant=institution.contact
        ).exists()

        totals = reports.impact_figures(world.manager, reports.ReportFilters(programme=programme.pk))
        assert totals["institutions_supported"] == 1
        assert totals["enterprises_supported"] == 1
        assert totals["cooperatives_supported"] == 0
        # The contact person is no family reached and nobody trained in the figures.
        assert totals["families_with_non_cash_benefits"] == 1
        assert totals["people_trained"] == 1
        assert totals["investment_eur"] == Decimal("2500.00")  # 1,100 + 1,400: the equipment is money spent

        by_programme = {
            row["key"]: row
            for row in reports.impact_breakdown(world.manager, reports.NO_FILTERS, "programme")
        }
        assert by_programme[programme.pk]["institutions_supported"] == 1
        assert by_programme[programme.pk]["enterprises_supported"] == 1
        quarters = reports.impact_by_period(
            world.manager, reports.NO_FILTERS, [(today() - datetime.timedelta(days=30), today())]
        )
        (quarter,) = quarters.values()
        assert (quarter["institutions_supported"], quarter["enterprises_supported"]) == (1, 1)

        response = api(world.manager).get(
            "/api/v1/reports/impact/", {"programme": programme.pk, "by": "programme"}
        )
        assert response.status_code == 200
        assert response.json()["institutions_supported"] == 1
        assert response.json()["enterprises_supported"] == 1
        assert response.json()["breakdown"][0]["institutions_supported"] == 1

        content = donor.build(world.manager, programme, today() - datetime.timedelta(days=30), today())
        assert content["institutions"][-1] == ["Total", 1]
        (centre,) = [row for row in content["breakdowns"]["centre"]["exact"] if row["key"] == world.centre.pk]
        assert (centre["enterprises_supported"], centre["institutions_supported"]) == (1, 1)
        assert donor.pdf(content, "en")[:4] == b"%PDF"

        page = verified_login(self_client(), world.manager).get(reverse("dashboard"))
        assert page.status_code == 200
        assert "institutions equipped" in page.content.decode()

    def test_the_handover_protocol_is_printed_for_the_institution(self, world, programme, api):
        institution = register(world)
        application = draft(world, programme, institution)
        application = walk_to_handover(world, application)
        response = api(world.officer).get(f"/api/v1/applications/{application.pk}/")
        assert response.status_code == 200
        assert response.json()["institution"] == institution.pk
        assert response.json()["applicant"] == institution.contact_id


def self_client():
    from django.test import Client

    return Client()


# ---- the programme must allow institutions ------------------------------------------------


class TestProgrammeSwitch:
    def test_a_programme_takes_no_institution_by_default(self, world):
        assert ProgrammeFactory(country=world.serbia).allows_institutions is False

    def test_it_refuses_an_institution_in_a_programme_that_does_not_allow_it(self, world):
        institution = register(world)
        with pytest.raises(ServiceError) as refused:
            draft(world, world.programme, institution)
        assert refused.value.code == "institutions_not_allowed"
        assert "does not take institutions" in str(refused.value.message)
        assert not GrantApplication.objects.exists()

    def test_a_programme_switched_off_after_the_draft_refuses_its_submission(self, world, programme):
        application = draft(world, programme, register(world))
        programme.allows_institutions = False
        programme.save(update_fields=["allows_institutions"])
        with pytest.raises(RuleNotMet) as refused:
            step(application, "submit", world.officer)
        assert [code for code, _message in refused.value.rules] == ["target_group_eligible"]
        assert "does not take institutions" in str(refused.value.rules[0][1])

    def test_no_target_group_rule_applies_to_an_institution(self, world, programme):
        programme.target_groups = ["returnee"]
        programme.save(update_fields=["target_groups"])
        application = step(draft(world, programme, register(world)), "submit", world.officer)
        assert application.state == "submitted"

    def test_an_institutions_grant_is_no_cooperative(self, world, programme):
        with pytest.raises(ServiceError) as refused:
            draft(world, programme, register(world), is_cooperative=True)
        assert refused.value.code == "institution_not_cooperative"
        application = draft(
            world, programme, register(world, name="Vocational school Niš", kind="vocational_school")
        )
        with pytest.raises(ServiceError):
            services.set_cooperative(application=application, by=world.officer, is_cooperative=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            GrantApplication.objects.filter(pk=application.pk).update(is_cooperative=True)


# ---- registration --------------------------------------------------------------------


class TestRegistration:
    def test_it_registers_an_institution_with_its_contact_person(self, world):
        institution = register(world)
        contact = institution.contact
        assert (institution.centre, institution.kind) == (world.centre, "prison_workshop")
        assert contact.is_institution_contact and contact.target_groups == []
        assert contact.phone == "+381641234567"
        assert ConsentRecord.objects.filter(applicant=contact, purpose="general").count() == 1
        event = AuditEvent.objects.get(action="register_institution")
        assert event.data["institution"] == institution.pk and event.actor == world.officer

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"name": "  "}, "name"),
            ({"kind": "prison"}, "kind"),
            ({"name": "x" * 201}, "name"),
            ({"contact_first_name": ""}, "contact_first_name"),
            ({"contact_date_of_birth": datetime.date(2999, 1, 1)}, "contact_date_of_birth"),
            ({"contact_phone": "12"}, "contact_phone"),
            ({"consent_given": False}, "consent_given"),
            ({"address": "Bulevar\x0012"}, "address"),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_stored(self, world, changes, field):
        with pytest.raises(ServiceError) as refused:
            register(world, **changes)
        assert field in refused.value.details
        assert not Institution.objects.exists()
        assert not Applicant.objects.filter(is_institution_contact=True).exists()

    def test_the_same_name_twice_at_a_centre_is_refused(self, world):
        register(world)
        with pytest.raises(ServiceError) as refused:
            register(world, name="CARPENTRY workshop of the Niš correctional institution")
        assert "name" in refused.value.details
        assert Institution.objects.count() == 1

    @pytest.mark.parametrize("role", ["manager", "finance", "auditor", "procurement", "applicant"])
    def test_only_field_officers_register_institutions(self, world, role):
        with pytest.raises(NotAllowed):
            register(world, by=getattr(world, role))
        assert not Institution.objects.exists()

    def test_an_officer_registers_only_at_their_centres(self, world):
        with pytest.raises(NotAllowed):
            register(world, by=world.officer2)
        assert not Institution.objects.exists()


# ---- no sensitive facts -----------------------------------------------------------------


class TestNoSensitiveFacts:
    def test_nobody_sees_sensitive_facts_of_a_contact_person(self, world):
        contact = register(world).contact
        for user in (world.officer, world.manager, world.colleague):
            allowed, reason = sensitivity.sensitive_access(user, contact)
            assert not allowed and "no sensitive facts" in str(reason)
            assert sensitivity.sensitive_payload(user, contact) is None
            assert sensitivity.sensitive_section(user, contact) is None
        assert not ApplicantSensitive.objects.filter(applicant=contact).exists()

    def test_the_api_answer_of_a_contact_has_no_sensitive_key(self, world, api):
        contact = register(world).contact
        data = api(world.manager).get(f"/api/v1/applicants/{contact.pk}/").json()
        assert not set(data) & {*sensitivity.SENSITIVE_FIELDS, "sensitive", "target_groups"}
        listed = api(world.officer).get("/api/v1/institutions/").json()["results"][0]
        flat = {*listed, *listed["contact"]}
        assert not flat & {*sensitivity.SENSITIVE_FIELDS, "sensitive", "target_groups", "sex"}

    def test_a_sensitive_fact_sent_with_an_institution_is_refused(self, world, api):
        body = api_body(world)
        for name in ("ethnicity", "referral_institution", "target_groups", "sensitive", "wg_walking"):
            response = api(world.officer).post("/api/v1/institutions/", {**body, name: "Roma"}, format="json")
            assert response.status_code == 400, name
            assert name in str(response.json()), name
        assert not Institution.objects.exists()
        assert not ApplicantSensitive.objects.exists()

    def test_a_contact_person_has_no_target_group_in_the_database(self, world):
        contact = register(world).contact
        with pytest.raises(IntegrityError), transaction.atomic():
            Applicant.objects.filter(pk=contact.pk).update(is_former_inmate=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            Applicant.objects.filter(pk=world.person.pk).update(
                is_returnee=False, is_former_inmate=False, is_socially_disadvantaged=False
            )

    def test_registration_refuses_a_target_group_for_a_contact(self, world):
        from applicants.services import clean_registration

        with pytest.raises(ServiceError) as refused:
            clean_registration(
                first_name="Dragan",
                last_name="Ilić",
                date_of_birth=datetime.date(1975, 4, 1),
                centre=world.centre,
                target_groups=["former_inmate"],
                institution_contact=True,
            )
        assert "target_groups" in refused.value.details

    def test_the_register_form_asks_no_sensitive_fact(self, world, client):
        page = verified_login(client, world.officer).get(reverse("institution-register"))
        assert page.status_code == 200
        html = page.content.decode()
        for name in [
            *sensitivity.SENSITIVE_FIELDS,
            "target_groups",
            "consent_prison",
            "consent_disability",
            "sex",
        ]:
            assert f'name="{name}"' not in html

    def test_no_special_category_consent_is_recorded_for_a_contact(self, world):
        from privacy.consents import renew_consents

        contact = register(world).contact
        with pytest.raises(ServiceError) as refused:
            renew_consents(applicant=contact, by=world.officer, special=["prison"])
        assert refused.value.code == "not_applicable"
        assert not ConsentRecord.objects.filter(applicant=contact).exclude(purpose="general").exists()

    def test_sensitive_documents_cannot_be_uploaded_for_an_institution(self, world, programme):
        from grants.documents import access

        application = draft(world, programme, register(world))
        decision = access.can_upload(world.officer, application, "release_certificate")
        assert not decision.allowed


def api_body(world, **changes):
    return {
        "centre": world.centre.pk,
        "name": "Vocational school Niš",
        "kind": "vocational_school",
        "contact_first_name": "Jelena",
        "contact_last_name": "Marković",
        "contact_date_of_birth": "1980-02-03",
        "consent_given": True,
        **changes,
    }


# ---- permissions, role by role -------------------------------------------------------------


class TestPermissions:
    def test_an_officer_of_another_centre_gets_404(self, world, programme, client):
        institution = register(world)
        with pytest.raises(NotVisible):
            services.create_application(
                by=world.officer2,
                institution=institution,
                programme=programme,
                business_name="X",
                sector="crafts",
            )
        page = verified_login(client, world.officer2).get(
            reverse("application-new"), {"institution": institution.pk}
        )
        assert page.status_code == 404
        assert not GrantApplication.objects.exists()

    @pytest.mark.parametrize(
        ("role", "status", "count"),
        [
            ("officer", 200, 1),
            ("colleague", 200, 1),
            ("manager", 200, 1),
            ("officer2", 200, 0),
            ("applicant", 200, 0),
            ("finance", 403, None),
            ("auditor", 403, None),
            ("procurement", 403, None),
        ],
    )
    def test_who_lists_institutions(self, world, api, role, status, count):
        register(world)
        response = api(getattr(world, role)).get("/api/v1/institutions/")
        assert response.status_code == status
        if count is not None:
            assert response.json()["count"] == count

    @pytest.mark.parametrize(
        ("role", "status"),
        [
            ("officer", 201),
            ("officer2", 400),
            ("manager", 403),
            ("finance", 403),
            ("auditor", 403),
            ("applicant", 403),
        ],
    )
    def test_who_registers_through_the_api(self, world, api, role, status):
        response = api(getattr(world, role)).post("/api/v1/institutions/", api_body(world), format="json")
        assert response.status_code == status, response.content
        assert Institution.objects.count() == (1 if status == 201 else 0)

    def test_the_api_creates_an_institutional_application(self, world, programme, api):
        institution = register(world)
        body = {
            "programme": programme.pk,
            "business_name": "Bakery ovens",
            "sector": "food",
            "institution": institution.pk,
        }
        response = api(world.officer).post("/api/v1/applications/", body, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["institution"] == institution.pk
        assert response.json()["applicant"] == institution.contact_id
        assert api(world.officer2).post("/api/v1/applications/", body, format="json").status_code == 400
        both = {**body, "applicant": world.person.pk}
        assert api(world.officer).post("/api/v1/applications/", both, format="json").status_code == 400
        refused = api(world.officer).post(
            "/api/v1/applications/", {**body, "programme": world.programme.pk}, format="json"
        )
        assert refused.status_code == 400
        assert refused.json()["code"] == "institutions_not_allowed"
        assert GrantApplication.objects.count() == 1

    def test_the_list_takes_a_bounded_number_of_queries(self, world, api, django_assert_max_num_queries):
        for n in range(3):
            InstitutionFactory(centre=world.centre, name=f"Workshop {n}")
        client = api(world.officer)
        with django_assert_max_num_queries(8):
            assert client.get("/api/v1/institutions/").json()["count"] == 3
        for n in range(3, 12):
            InstitutionFactory(centre=world.centre, name=f"Workshop {n}")
        with django_assert_max_num_queries(8):
            assert client.get("/api/v1/institutions/").json()["count"] == 12


# ---- the officer's pages ----------------------------------------------------------------


class TestPages:
    def test_an_officer_registers_an_institution_and_starts_its_application(self, world, programme, client):
        verified_login(client, world.officer)
        form = {
            "name": "Municipal cooperative Merošina",
            "kind": "municipal_cooperative",
            "centre": world.centre.pk,
            "contact_first_name": "Milan",
            "contact_last_name": "Jović",
            "contact_date_of_birth": "1969-05-06",
            "contact_language": "sr-latn",
            "consent_given": "on",
        }
        response = client.post(reverse("institution-register"), form)
        institution = Institution.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('application-new')}?institution={institution.pk}"
        choose = client.get(reverse("application-new"), {"institution": institution.pk})
        assert choose.status_code == 200
        html = choose.content.decode()
        assert programme.name in html and world.programme.name not in html
        response = client.post(
            f"{reverse('application-new')}?institution={institution.pk}&programme={programme.pk}",
            {
                "programme": programme.pk,
                "institution": institution.pk,
                "business_name": "Greenhouse",
                "sector": "agriculture",
                "jobs_planned": 3,
                "items-TOTAL_FORMS": 1,
                "items-INITIAL_FORMS": 0,
                "items-0-description": "Greenhouse frame",
                "items-0-quantity": 1,
                "items-0-unit_cost": "900.00",
            },
        )
        application = GrantApplication.objects.get()
        assert response.status_code == 302, response.content.decode()[:2000]
        assert (application.institution, application.applicant) == (institution, institution.contact)
        listing = client.get(reverse("institution-list"))
        assert "Municipal cooperative Merošina" in listing.content.decode()
        detail = client.get(reverse("application-detail", args=[application.pk]))
        assert "Institution: Municipal cooperative Merošina" in detail.content.decode()

    def test_an_empty_form_shows_the_error_summary_and_stores_nothing(self, world, client):
        response = verified_login(client, world.officer).post(reverse("institution-register"), {})
        assert response.status_code == 400
        assert (
            'class="error-summary' in response.content.decode()
            or "error-summary" in response.content.decode()
        )
        assert not Institution.objects.exists()

    def test_a_refused_consent_is_said_on_the_form(self, world, client):
        form = {
            "name": "School",
            "kind": "vocational_school",
            "centre": world.centre.pk,
            "contact_first_name": "Milan",
            "contact_last_name": "Jović",
            "contact_date_of_birth": "1969-05-06",
            "contact_language": "sr-latn",
        }
        response = verified_login(client, world.officer).post(reverse("institution-register"), form)
        assert response.status_code == 400
        assert "consent is needed" in response.content.decode()
        assert not Institution.objects.exists()

    @pytest.mark.parametrize(
        ("role", "list_status", "register_status"),
        [
            ("officer", 200, 200),
            ("manager", 200, 403),
            ("finance", 403, 403),
            ("auditor", 403, 403),
            ("procurement", 403, 403),
            ("applicant", 403, 403),
        ],
    )
    def test_who_reaches_the_pages(self, world, client, role, list_status, register_status):
        verified_login(client, getattr(world, role))
        assert client.get(reverse("institution-list")).status_code == list_status
        assert client.get(reverse("institution-register")).status_code == register_status
