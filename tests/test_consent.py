"""Consent as the law asks: the controller, the purposes, retention, rights and the
authority of the person's country named; each special category of facts agreed to on its
own; a change of wording asked again at the next sign-in, both versions kept; withdrawal
of a special consent erasing its facts."""

import datetime

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from applicants import consent
from applicants.models import ApplicantSensitive, ConsentRecord
from applicants.services import register_applicant
from core.errors import ServiceError
from grants.models import AuditEvent
from privacy.consents import renew_consents, withdraw_consent

from .conftest import verified_login
from .factories import ApplicantFactory, ApplicantSensitiveFactory

pytestmark = pytest.mark.django_db


def register(world, **overrides):
    values = {
        "by": world.officer,
        "first_name": "Vesna",
        "last_name": "Ristić",
        "date_of_birth": datetime.date(1988, 5, 4),
        "centre": world.centre,
        "target_groups": ["former_inmate"],
        "consent_given": True,
        "special_consents": ["prison"],
        "sensitive": {"referral_institution": "Probation office Niš"},
    }
    values.update(overrides)
    return register_applicant(**values)


class TestWording:
    @override_settings(DATA_CONTROLLER_NAME="Help for Work NGO", DATA_CONTROLLER_CONTACT="data@help.test")
    @override_settings(RETENTION_DAYS=365 * 7)
    def test_it_names_controller_retention_rights_and_the_authority_of_the_country(self, world):
        with translation.override("en"):
            serbia = consent.consent_wording(consent.GENERAL, "RS")
            kosovo = consent.consent_wording(consent.GENERAL, "XK")
        assert "Help for Work NGO (data@help.test)" in serbia
        assert "7 years" in serbia
        assert "withdraw your consent" in serbia and "erasure" in serbia
        assert "Donors see numbers only" in serbia
        assert "Commissioner for Information of Public Importance and Personal Data Protection" in serbia
        assert "Information and Privacy Agency" in kosovo and "06/L-082" in kosovo

    def test_it_reads_in_serbian_and_albanian(self, world):
        for language, words in (("sr-latn", "Poverenik"), ("sq", "Agjencisë për Informim dhe Privatësi")):
            with translation.override(language):
                text = consent.consent_wording(consent.GENERAL, "RS" if language == "sr-latn" else "XK")
            assert words in text
            assert "We store" not in text and "Optional" not in text


class TestSpecialCategories:
    def test_prison_facts_are_refused_without_their_own_consent(self, world):
        with pytest.raises(ServiceError) as excinfo:
            register(world, special_consents=[])
        assert "target_groups" in excinfo.value.details
        assert not ConsentRecord.objects.filter(applicant__first_name="Vesna").exists()

    def test_ethnicity_is_refused_without_its_consent(self, world):
        with pytest.raises(ServiceError) as excinfo:
            register(
                world,
                target_groups=["socially_disadvantaged"],
                special_consents=[],
                sensitive={"ethnicity": "Roma"},
            )
        assert "ethnicity" in excinfo.value.details

    def test_each_consent_is_its_own_record_given_on_behalf(self, world):
        person = register(world)
        records = {r.purpose: r for r in person.consents.all()}
        assert set(records) == {"general", "prison"}
        assert all(r.on_behalf and r.recorded_by == world.officer for r in records.values())
        assert consent.has_consent(person, "prison") and not consent.has_consent(person, "ethnicity")
        assert not consent.has_consent(person, "disability")

    def test_an_officer_cannot_tick_a_separate_consent_that_does_not_exist(self, world):
        with pytest.raises(ServiceError):
            register(world, special_consents=["prison", "horoscope"])


class TestWithdrawal:
    def test_withdrawing_a_special_consent_erases_its_facts_and_is_audited(self, world):
        person = register(world, target_groups=["former_inmate", "socially_disadvantaged"])
        withdraw_consent(applicant=person, purpose="prison", by=world.officer)
        person.refresh_from_db()
        assert not person.is_former_inmate and person.is_socially_disadvantaged
        assert ApplicantSensitive.objects.get(applicant=person).referral_institution == ""
        assert not consent.has_consent(person, "prison")
        assert consent.has_consent(person, "general")
        event = AuditEvent.objects.get(applicant=person, action="consent_withdrawn")
        assert event.data["purpose"] == "prison" and {"referral", "referral_other"} <= set(
            event.data["erased"]
        )

    def test_the_only_target_group_is_not_withdrawn_alone(self, world):
        person = register(world)
        with pytest.raises(ServiceError) as excinfo:
            withdraw_consent(applicant=person, purpose="prison", by=world.officer)
        assert excinfo.value.code == "only_target_group"
        person.refresh_from_db()
        assert person.is_former_inmate and consent.has_consent(person, "prison")

    def test_ethnicity_withdrawn_is_erased(self, world):
        person = world.person
        ApplicantSensitiveFactory(applicant=person, ethnicity="Roma")
        renew_consents(applicant=person, by=world.applicant, special={"ethnicity"})
        renew_consents(applicant=person, by=world.applicant, special=set())
        assert ApplicantSensitive.objects.get(applicant=person).ethnicity == ""
        assert not consent.has_consent(person, "ethnicity")


class TestRenewal:
    def test_an_older_wording_is_asked_again_at_sign_in_and_both_versions_are_kept(self, client, world):
        person = world.person
        person.consents.update(version="2026-11", wording="The older text.")
        client.force_login(world.applicant)
        response = client.get(reverse("my-applications"))
        assert response.status_code == 302 and response.url == reverse("consent-renew")
        page = client.get(reverse("consent-renew"))
        assert page.status_code == 200
        assert "We changed the text about your data" in page.content.decode()
        # Refused without agreeing: nothing recorded, still asked.
        assert client.post(reverse("consent-renew"), {}).status_code == 400
        assert client.get(reverse("my-applications")).status_code == 302

        response = client.post(reverse("consent-renew"), {"agree": "on", "consent_return": "on"})
        assert response.status_code == 302 and response.url == reverse("my-applications")
        assert client.get(reverse("my-applications")).status_code == 200
        versions = list(
            person.consents.filter(purpose="general")
            .order_by("given_at", "pk")
            .values_list("version", "wording")
        )
        assert versions[0] == ("2026-11", "The older text.")
        with translation.override(person.language):
            current = consent.consent_wording(consent.GENERAL, "RS")
        assert versions[1] == (consent.CONSENT_VERSION, current)
        records = person.consents.filter(purpose="return")
        assert [(r.version, r.on_behalf, r.recorded_by) for r in records] == [
            (consent.CONSENT_VERSION, False, world.applicant)
        ]
        assert AuditEvent.objects.filter(applicant=person, action="consent_given").exists()

    def test_the_current_wording_is_not_asked_again(self, client, world):
        client.force_login(world.applicant)
        assert client.get(reverse("my-applications")).status_code == 200

    def test_staff_and_people_without_a_record_are_never_sent_there(self, client, world):
        ApplicantFactory(centre=world.centre, with_user=True, consent=False)
        client.force_login(world.person2.user)
        assert client.get(reverse("my-applications")).status_code == 200
        assert client.get(reverse("consent-renew")).status_code == 200

    def test_a_staff_member_has_no_consent_page(self, client, world):
        verified_login(client, world.auditor)
        assert client.get(reverse("consent-renew")).status_code == 404
