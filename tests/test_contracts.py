"""The grant contract (issue 16, binding the grant): the numbered PDF in the
beneficiary's language, its signed copy, the own contribution's payments and reversals,
the business registration, and the programme's rules on when each must be met."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from applicants import roles
from core.errors import Conflict, ServiceError
from grants import contract_pdf, contracts, documents, services
from grants.models import AuditEvent, ContributionPayment, GrantApplication, GrantContract
from grants.workflow import State

from .conftest import verified_login
from .factories import (
    PDF_BYTES,
    ApplicantFactory,
    ProgrammeFactory,
    audit_actions,
    staff,
    today,
    upload_handover_protocol,
)


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def signed_scan(name="contract-signed.pdf", marker=b"signed"):
    return SimpleUploadedFile(name, PDF_BYTES + b"%" + marker + b"\n", "application/pdf")


@pytest.fixture
def kosovo(world):
    """A programme as the organisation's Kosovo one: 15 % back, due in 30 days."""
    return ProgrammeFactory(country=world.serbia, own_contribution_percent=Decimal("15"))


def grant(world, programme=None, language="sr-latn", **traits):
    person = ApplicantFactory(
        centre=world.centre, language=language, first_name="Drita", last_name="Krasniqi"
    )
    return world.application(
        applicant=person, programme=programme or world.programme, approved=True, **traits
    )


# ---- the contract and its PDF ---------------------------------------------------------


class TestContractPdf:
    def url(self, app):
        return f"/api/v1/applications/{app.pk}/contract.pdf"

    @pytest.mark.parametrize(
        ("language", "wording"),
        [
            (
                "en",
                [
                    "Grant contract",
                    "Article 2. Use of the equipment",
                    "not sell, rent out, give away or pledge",
                    "monitoring period of 12 months",
                    "Total 1,100.00 EUR",
                    "165.00 EUR (15 % of",
                    "returns the equipment",
                ],
            ),
            (
                "sr-latn",
                [
                    "Ugovor o dodeli granta",
                    "Član 2. Korišćenje opreme",
                    "ne sme prodati",
                    "perioda praćenja od 12 meseci",
                    "Ukupno 1.100,00 EUR",
                    "165,00 EUR (15 % odobrenog",
                    "vraća opremu",
                    "3, 6 i 12 meseci",
                ],
            ),
            (
                "sq",
                [
                    "Kontrata e grantit",
                    "Neni 2. Përdorimi i pajisjeve",
                    "nuk i lë peng",
                    "periudhës së monitorimit prej 12 muajsh",
                    "Gjithsej 1.100,00 EUR",
                    "165,00 EUR (15 % e",
                    "kthen pajisjet",
                    "3, 6 dhe 12 muaj",
                ],
            ),
        ],
    )
    def test_it_is_written_in_the_beneficiarys_language(self, world, api, kosovo, language, wording):
        app = grant(world, kosovo, language=language)
        response = api(world.finance).get(self.url(app))

        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        contract = GrantContract.objects.get(application=app)
        assert contract.number == f"GC-{today().year}-{app.pk:06d}"
        assert f"contract-{contract.number}.pdf" in response["Content-Disposition"]
        text = " ".join(pdf_text(response.content).split())
        assert contract.number in text
        assert "Drita Krasniqi" in text
        for words in wording:
            assert words in text, words
        assert (contract.language, contract.approved_amount, contract.contribution_amount) == (
            language,
            Decimal("1100.00"),
            Decimal("165.00"),
        )
        assert contract.contribution_due_on == today() + datetime.timedelta(days=30)

    def test_the_granted_quantity_and_unit_cost_are_printed_not_the_request(self, world, api):
        app = grant(world, language="en")
        item = app.items.first()
        item.approved_quantity, item.approved_unit_cost = 1, Decimal("250.00")
        item.save()
        GrantApplication.objects.filter(pk=app.pk).update(approved_amount=Decimal("250.00"))
        text = " ".join(pdf_text(api(world.finance).get(self.url(app)).content).split())
        assert (
            f"1 {item.description} 1 250.00 250.00" in text or f"{item.description} 1 250.00 250.00" in text
        )
        assert "Total 250.00 EUR" in text
        assert "The programme asks for no own contribution." in text

    def test_it_is_issued_once_and_every_print_is_audited(self, world, api):
        app = grant(world)
        api(world.finance).get(self.url(app))
        api(world.officer).get(self.url(app))
        assert GrantContract.objects.filter(application=app).count() == 1
        actions = audit_actions(app)
        assert actions.count("contract_issued") == 1
        assert actions.count("contract_printed") == 2

    def test_it_never_names_the_centre_or_the_programme(self, world, api):
        app = grant(world, language="en")
        text = pdf_text(api(world.officer).get(self.url(app)).content)
        assert world.centre.name not in text
        assert world.programme.name not in text
        assert str(world.programme.public_label) in text

    @pytest.mark.parametrize(
        ("role", "status"),
        [("officer", 200), ("finance", 200), ("manager", 200), ("auditor", 403), ("applicant", 403)],
    )
    def test_who_prints_it(self, world, api, role, status):
        app = world.application(approved=True)
        assert api(getattr(world, role)).get(self.url(app)).status_code == status

    def test_not_before_approval_and_not_for_other_centres(self, world, api):
        response = api(world.officer).get(self.url(world.application(submitted=True)))
        assert response.status_code == 409
        assert api(world.officer2).get(self.url(world.application(approved=True))).status_code == 404
        assert not GrantContract.objects.exists()


@pytest.mark.django_db
def test_every_seeded_approved_grant_has_a_contract_in_its_language(tmp_path, settings):
    from demo.seed import seed

    settings.MEDIA_ROOT = str(tmp_path)
    seed()
    granted = GrantApplication.objects.filter(state__in=contracts.CONTRACT_STATES).select_related(
        "applicant", "programme"
    )
    titles = {"en": "Grant contract", "sr-latn": "Ugovor o dodeli granta", "sq": "Kontrata e grantit"}
    assert granted.exists()
    languages = set()
    for app in granted:
        contract = GrantContract.objects.get(application=app)
        assert contract.language == app.applicant.language
        text = pdf_text(contract_pdf.render(contract))
        assert titles[contract.language] in text
        assert contract.number in text
        languages.add(contract.language)
    assert {"sr-latn", "sq"} <= languages
    # The Kosovo programme's grants that reached the beneficiary met all three rules.
    delivered = granted.filter(
        state__in=State.DELIVERED_OR_LATER, programme__contribution_rule="before_delivery"
    )
    assert delivered.exists()
    for app in delivered:
        assert app.contribution_outstanding() == 0
        assert app.contract.is_signed and app.business_registration_number


# ---- the signed copy ------------------------------------------------------------------


class TestSignedCopy:
    def test_the_upload_notes_when_the_signed_copy_arrived(self, world, api):
        app = grant(world)
        response = api(world.finance).post(
            f"/api/v1/applications/{app.pk}/documents/",
            {"kind": "signed_contract", "file": signed_scan()},
            format="multipart",
        )
        assert response.status_code == 201
        contract = GrantContract.objects.get(application=app)
        assert contract.is_signed
        assert contract.signed_copy_id == response.json()["id"]
        assert contract.signed_received_at is not None
        assert "contract_signed_received" in audit_actions(app)
        state = api(world.finance).get(f"/api/v1/applications/{app.pk}/contract/").json()
        assert state["contract"]["signed"] is True

    def test_the_applicant_does_not_upload_it_and_it_stays_on_file(self, world, api):
        app = world.application(approved=True)
        response = api(world.applicant).post(
            f"/api/v1/applications/{app.pk}/documents/",
            {"kind": "signed_contract", "file": signed_scan()},
            format="multipart",
        )
        assert response.status_code == 403
        document = documents.upload_document(
            application=app, by=world.officer, kind="signed_contract", uploaded_file=signed_scan()
        )
        assert not documents.can_delete(world.officer, document)


# ---- the own contribution -------------------------------------------------------------


def pay(app, by, amount, reference="Bank statement 12", paid_on=None):
    return services.record_contribution_payment(
        application=app, by=by, amount=amount, paid_on=paid_on or today(), reference=reference
    )


class TestContribution:
    def url(self, app):
        return f"/api/v1/applications/{app.pk}/contributions/"

    def test_payments_bring_the_balance_down_and_are_audited(self, world, api, kosovo):
        app = grant(world, kosovo)
        response = api(world.finance).post(
            self.url(app),
            {"amount": "100.00", "paid_on": today().isoformat(), "reference": "BS 12"},
            format="json",
        )
        assert response.status_code == 201
        assert app.contribution_outstanding() == Decimal("65.00")
        event = AuditEvent.objects.filter(application=app, action="contribution_paid").get()
        assert event.actor == world.finance
        assert event.data["amount"] == "100.00"
        state = api(world.manager).get(f"/api/v1/applications/{app.pk}/contract/").json()["contribution"]
        assert (state["expected"], state["paid"], state["outstanding"]) == ("165.00", "100.00", "65.00")

    @pytest.mark.parametrize(
        ("amount", "message"),
        [
            ("0", "A payment is more than zero."),
            ("-5.00", "Amounts cannot be negative."),
            ("165.01", "The payment is more than the 165.00 EUR outstanding."),
        ],
    )
    def test_zero_negative_and_over_the_balance_are_refused(self, world, api, kosovo, amount, message):
        app = grant(world, kosovo)
        response = api(world.finance).post(
            self.url(app),
            {"amount": amount, "paid_on": today().isoformat(), "reference": "BS"},
            format="json",
        )
        assert response.status_code == 400
        assert message in str(response.json())
        assert not ContributionPayment.objects.exists()
        assert "contribution_paid" not in audit_actions(app)

    def test_a_programme_without_contribution_takes_no_payment(self, world):
        app = grant(world)
        with pytest.raises(ServiceError, match="outstanding"):
            pay(app, world.finance, "1.00")

    def test_no_future_date_and_a_reference_is_needed(self, world, kosovo):
        app = grant(world, kosovo)
        with pytest.raises(ServiceError, match="future"):
            pay(app, world.finance, "10.00", paid_on=today() + datetime.timedelta(days=1))
        with pytest.raises(ServiceError, match="reference"):
            pay(app, world.finance, "10.00", reference="  ")

    def test_a_correction_is_a_reversing_entry(self, world, api, kosovo):
        app = grant(world, kosovo)
        payment = pay(app, world.finance, "165.00")
        assert app.contribution_outstanding() == 0
        response = api(world.finance).post(
            f"/api/v1/contributions/{payment.pk}/reversal/",
            {"reason": "Paid on another grant."},
            format="json",
        )
        assert response.status_code == 201
        assert Decimal(response.json()["amount"]) == Decimal("-165.00")
        payment.refresh_from_db()
        assert payment.amount == Decimal("165.00")  # never edited
        assert app.contribution_outstanding() == Decimal("165.00")
        assert "contribution_reversed" in audit_actions(app)
        again = api(world.finance).post(
            f"/api/v1/contributions/{payment.pk}/reversal/", {"reason": "Twice."}, format="json"
        )
        assert again.status_code == 409
        reversal = ContributionPayment.objects.get(reverses=payment)
        with pytest.raises(Conflict):
            services.reverse_contribution_payment(payment=reversal, by=world.finance, reason="Undo.")

    @pytest.mark.parametrize(
        ("role", "status"),
        [("finance", 201), ("manager", 201), ("officer", 403), ("auditor", 403), ("applicant", 403)],
    )
    def test_finance_and_managers_record_payments(self, world, api, kosovo, role, status):
        app = world.application(programme=kosovo, approved=True)
        response = api(getattr(world, role)).post(
            self.url(app),
            {"amount": "10.00", "paid_on": today().isoformat(), "reference": "BS"},
            format="json",
        )
        assert response.status_code == status
        other_finance = staff(roles.FINANCE_OFFICER, world.other_centre)
        assert api(other_finance).get(self.url(app)).status_code == 404


# ---- the registration -----------------------------------------------------------------


class TestRegistration:
    def url(self, app):
        return f"/api/v1/applications/{app.pk}/registration/"

    def test_the_field_officer_records_it(self, world, api):
        app = grant(world)
        body = {"number": "81012345", "registered_on": today().isoformat()}
        response = api(world.officer).put(self.url(app), body, format="json")
        assert response.status_code == 200
        app.refresh_from_db()
        assert (app.business_registration_number, app.business_registered_on) == ("81012345", today())
        event = AuditEvent.objects.get(application=app, action="business_registered")
        assert event.data["after"] == {"number": "81012345", "registered_on": today().isoformat()}

    @pytest.mark.parametrize(("role", "status"), [("finance", 403), ("manager", 403), ("applicant", 403)])
    def test_other_roles_do_not(self, world, api, role, status):
        app = world.application(approved=True)
        body = {"number": "81012345", "registered_on": today().isoformat()}
        assert api(getattr(world, role)).put(self.url(app), body, format="json").status_code == status

    def test_a_future_date_and_a_blank_number_are_refused(self, world):
        app = grant(world)
        with pytest.raises(ServiceError, match="future"):
            services.record_registration(
                application=app,
                by=world.officer,
                number="1",
                registered_on=today() + datetime.timedelta(days=2),
            )
        with pytest.raises(ServiceError, match="registration number"):
            services.record_registration(application=app, by=world.officer, number=" ", registered_on=today())


# ---- the rules and their timing -------------------------------------------------------


def deliver_all(app, by):
    return services.record_delivery_lines(
        application=app,
        by=by,
        delivered_on=today(),
        supplier="Tehno Alat",
        invoice_number="INV-1",
        lines=[
            {"item": item.pk, "quantity": item.quantity_granted, "actual_unit_cost": str(item.unit_cost)}
            for item in app.items.all()
        ],
    )


def register(app, by):
    services.record_registration(application=app, by=by, number="81012345", registered_on=today())


def sign(app, by):
    services.issue_contract(application=app, by=by)
    documents.upload_document(application=app, by=by, kind="signed_contract", uploaded_file=signed_scan())


RULES = {
    "contribution_rule": (
        "The beneficiary's own contribution is not paid in full.",
        lambda app, world: pay(app, world.finance, app.contribution_outstanding()),
    ),
    "registration_rule": (
        "Record the business's registration number and date.",
        lambda app, world: register(app, world.officer),
    ),
    "contract_rule": (
        "Upload the grant contract signed by the beneficiary.",
        lambda app, world: sign(app, world.finance),
    ),
}


class TestRules:
    @pytest.mark.parametrize("rule", list(RULES))
    @pytest.mark.parametrize("timing", ["before_delivery", "before_procurement"])
    def test_delivery_is_refused_until_the_condition_is_met(self, world, rule, timing):
        programme = ProgrammeFactory(
            country=world.serbia, own_contribution_percent=Decimal("15"), **{rule: timing}
        )
        app = grant(world, programme)
        message, meet = RULES[rule]
        with pytest.raises(Conflict) as refused:
            deliver_all(app, world.finance)
        assert message in str(refused.value.message)
        assert not app.deliveries.exists()
        assert (message in contracts.unmet_before_procurement(app)) == (timing == "before_procurement")
        assert message in contracts.unmet_before_delivery(app)

        meet(app, world)
        app = GrantApplication.objects.get(pk=app.pk)
        deliver_all(app, world.finance)
        assert app.deliveries.count() == 1
        assert contracts.unmet_before_procurement(app) == []

    def test_switched_off_nothing_is_asked(self, world):
        programme = ProgrammeFactory(country=world.serbia, own_contribution_percent=Decimal("15"))
        app = grant(world, programme)
        assert contracts.unmet_before_delivery(app) == []
        deliver_all(app, world.finance)
        assert app.deliveries.count() == 1

    def test_the_record_delivery_step_names_the_unmet_rule(self, world):
        # The rule switched on after the equipment was handed over: the step waits for it.
        app = grant(world, world.programme)
        deliver_all(app, world.finance)
        world.programme.registration_rule = "before_delivery"
        world.programme.save()
        upload_handover_protocol(app, world.finance)
        app = GrantApplication.objects.get(pk=app.pk)
        assert [code for code, _m in services.unmet_rules(app, "record_delivery")] == ["business_registered"]
        register(app, world.officer)
        app.refresh_from_db()
        # Recording the registration was the last thing missing: the grant moves on.
        assert app.state == State.EQUIPMENT_DELIVERED


# ---- the application page -------------------------------------------------------------


class TestPage:
    def page(self, client, app):
        return client.get(f"/applications/{app.pk}/")

    def test_finance_sees_the_section_without_names(self, world, client, kosovo):
        app = grant(world, kosovo)
        services.issue_contract(application=app, by=world.finance)
        pay(app, world.finance, "15.00", reference="BS 77")
        response = self.page(verified_login(client, world.finance), app)
        content = response.content.decode()
        assert response.status_code == 200
        assert app.contract.number in content
        assert "BS 77" in content
        assert "Record a payment" in content
        assert "Drita" not in content and "Krasniqi" not in content
        assert "Record the business registration" not in content

    def test_the_officer_records_the_registration_from_the_page(self, world, client):
        app = grant(world)
        client = verified_login(client, world.officer)
        assert "Record the business registration" in self.page(client, app).content.decode()
        response = client.post(
            f"/applications/{app.pk}/registration/",
            {"number": "81012345", "registered_on": today().isoformat()},
        )
        assert response.status_code == 302
        app.refresh_from_db()
        assert app.business_registration_number == "81012345"

    def test_a_refused_payment_says_why_and_changes_nothing(self, world, client, kosovo):
        app = grant(world, kosovo)
        client = verified_login(client, world.finance)
        response = client.post(
            f"/applications/{app.pk}/contributions/new/",
            {"amount": "999.00", "paid_on": today().isoformat(), "reference": "BS"},
            follow=True,
        )
        assert "The payment is more than the 165.00 EUR outstanding." in response.content.decode()
        assert not ContributionPayment.objects.exists()

    def test_the_section_reads_a_bounded_number_of_queries(
        self, world, client, kosovo, django_assert_max_num_queries
    ):
        app = grant(world, kosovo)
        for n in range(5):
            pay(app, world.finance, "1.00", reference=f"BS {n}")
        client = verified_login(client, world.finance)
        self.page(client, app)
        with django_assert_max_num_queries(60) as few:
            self.page(client, app)
        for n in range(5, 25):
            pay(app, world.finance, "1.00", reference=f"BS {n}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            self.page(client, app)


# ---- the finance budget page ------------------------------------------------------------


def test_the_budget_page_shows_contributions_expected_and_received(world, client, kosovo):
    app = grant(world, kosovo)
    services.issue_contract(application=app, by=world.finance)
    pay(app, world.finance, "40.00")
    body = verified_login(client, world.finance).get(reverse("finance-budget")).content.decode()
    assert "Own contributions expected" in body
    assert "165.00 EUR" in body and "40.00 EUR" in body
