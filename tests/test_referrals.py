"""Referral partners (issue 21, part 4): an outside organisation's account reads what
became of its own referrals, by reference, without names or sensitive facts."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from applicants import roles
from applicants.models import ReferralPartner
from audit.models import AuditEvent

from .conftest import verified_login
from .factories import ApplicantSensitiveFactory, ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


@pytest.fixture
def partners(world):
    roma = ReferralPartner.objects.create(name="Roma association Niš", country=world.serbia)
    employment = ReferralPartner.objects.create(name="National employment service", country=world.serbia)
    abroad = ReferralPartner.objects.create(name="Employment agency Prizren", country=world.kosovo)
    member = UserFactory(with_role=roles.REFERRAL_PARTNER, username="roma-partner")
    roma.members.add(member)
    other_member = UserFactory(with_role=roles.REFERRAL_PARTNER, username="nsz-partner")
    employment.members.add(other_member)
    return roma, employment, abroad, member, other_member


def refer(world, person, partner):
    url = reverse("api:applicant-referral", kwargs={"pk": person.pk})
    return client_for(world.officer).put(url, {"partner": partner.pk if partner else None}, format="json")


def test_the_partner_reads_what_became_of_its_own_referrals_only(world, partners):
    roma, employment, _abroad, member, other_member = partners
    ApplicantSensitiveFactory(applicant=world.person)
    grant = world.application(approved=True)
    other_person = ApplicationFactory(applicant__centre=world.centre, submitted=True).applicant
    assert refer(world, world.person, roma).status_code == 200
    assert refer(world, other_person, employment).status_code == 200

    response = client_for(member).get(reverse("api:referrals"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["reference"] for row in rows] == [world.person.pk]
    assert rows[0]["applications"] == [
        {
            "id": grant.pk,
            "programme": str(grant.programme.public_label),
            "state": "approved",
            "state_label": "Approved",
        }
    ]
    body = response.content.decode()
    for secret in (world.person.first_name, world.person.last_name, world.person.phone, "former_inmate",
                   "Sremska", world.centre.name, grant.programme.name):  # fmt: skip
        assert secret not in body
    assert [
        r["reference"] for r in client_for(other_member).get(reverse("api:referrals")).json()["results"]
    ] == [other_person.pk]


def test_the_partner_reaches_nothing_else(world, partners):
    *_rest, member, _other = partners
    client = client_for(member)
    grant = world.application(submitted=True)
    for name, kwargs in (
        ("api:applicants", None),
        ("api:applications", None),
        ("api:application", {"pk": grant.pk}),
        ("api:applicant", {"pk": world.person.pk}),
        ("api:report-impact", None),
        ("api:audit-events", None),
        ("api:transfers", None),
    ):
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code in (403, 404) or response.json()["count"] == 0, name
    page = Client()
    verified_login(page, member)
    assert page.get(reverse("application-detail", kwargs={"pk": grant.pk})).status_code == 404
    assert page.get(reverse("inbox")).status_code == 403
    # the list is the partners' only
    assert client_for(world.officer).get(reverse("api:referrals")).status_code == 403


def test_recording_a_referral_is_for_the_centres_officers_and_audited(world, partners):
    roma, _employment, abroad, _member, _other = partners
    url = reverse("api:applicant-referral", kwargs={"pk": world.person.pk})
    assert client_for(world.manager).put(url, {"partner": roma.pk}, format="json").status_code == 403
    assert client_for(world.officer2).put(url, {"partner": roma.pk}, format="json").status_code == 404
    assert client_for(world.finance).put(url, {"partner": roma.pk}, format="json").status_code == 404
    assert refer(world, world.person, abroad).status_code == 400
    assert client_for(world.officer).put(url, {"partner": 987654}, format="json").status_code == 400
    assert not AuditEvent.objects.filter(action="referral_recorded").exists()
    assert refer(world, world.person, roma).status_code == 200
    assert refer(world, world.person, None).status_code == 200
    events = AuditEvent.objects.filter(action="referral_recorded").order_by("pk")
    assert [e.data["after"]["referred_by"] for e in events] == [roma.pk, None]
    world.person.refresh_from_db()
    assert world.person.referred_by is None


def test_the_referral_list_costs_a_fixed_number_of_queries(world, partners, django_assert_max_num_queries):
    roma, *_rest, member, _other = partners
    for _ in range(4):
        person = ApplicationFactory(applicant__centre=world.centre, submitted=True).applicant
        refer(world, person, roma)
    client = client_for(member)
    with django_assert_max_num_queries(6):
        assert len(client.get(reverse("api:referrals")).json()["results"]) == 4
