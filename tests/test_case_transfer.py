"""Transfer of a case (issue 21, part 1): a person, with their open applications, moves
from the prison's social service to the integration centre of their home municipality.
The sending centre's staff lose access from then on; the history keeps both centres."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from applicants import roles
from applicants.models import Applicant, IntegrationCentre
from audit.models import AuditEvent
from grants import services
from grants.models import CaseTransfer, GrantApplication, Notification

from .conftest import verified_login
from .factories import ApplicantFactory, ApplicationFactory, CentreFactory, CountryFactory, staff

pytestmark = pytest.mark.django_db


class Centres:
    def __init__(self):
        serbia = CountryFactory()
        self.prison = CentreFactory(
            country=serbia,
            name="Sremska Mitrovica Correctional Institution – social service",
            kind=IntegrationCentre.Kind.PRISON_SERVICE,
            municipality="Sremska Mitrovica",
        )
        self.nis = CentreFactory(country=serbia, name="Integration Centre Niš", municipality="Niš")
        self.prizren = CentreFactory(country=CountryFactory(code="XK", name="Kosovo"), name="Prizren")
        self.users = {
            "prison_officer": staff(roles.FIELD_OFFICER, self.prison, username="prison-officer"),
            "prison_manager": staff(roles.PROGRAMME_MANAGER, self.prison, username="prison-manager"),
            "prison_finance": staff(roles.FINANCE_OFFICER, self.prison, username="prison-finance"),
            "nis_officer": staff(roles.FIELD_OFFICER, self.nis, username="nis-officer"),
            "nis_manager": staff(roles.PROGRAMME_MANAGER, self.nis, username="nis-manager"),
            "nis_finance": staff(roles.FINANCE_OFFICER, self.nis, username="nis-finance"),
        }
        self.person = ApplicantFactory(
            centre=self.prison, is_former_inmate=True, language="sq", email="person@example.test"
        )
        officer = self.users["prison_officer"]
        self.draft = ApplicationFactory(applicant=self.person, assigned_officer=officer)
        self.submitted = ApplicationFactory(
            applicant=self.person, programme=self.draft.programme, assigned_officer=officer, submitted=True
        )
        self.closed = ApplicationFactory(
            applicant=self.person, programme=self.draft.programme, assigned_officer=officer, completed=True
        )


@pytest.fixture
def centres():
    return Centres()


def api_get(user, name, pk):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client.get(reverse(name, kwargs={"pk": pk}))


def api_post(user, name, body=None, **kwargs):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client.post(reverse(name, kwargs=kwargs or None), body or {}, format="json")


def answers(centres):
    """Who opens the person and their open application (API and page), role by role."""
    table = {}
    for key, user in centres.users.items():
        page = Client()
        verified_login(page, user)
        table[key] = (
            api_get(user, "api:applicant", centres.person.pk).status_code,
            api_get(user, "api:application", centres.submitted.pk).status_code,
            page.get(reverse("application-detail", kwargs={"pk": centres.submitted.pk})).status_code,
        )
    return table


def test_it_moves_the_person_from_prison_to_nis_and_the_prison_loses_access(
    centres, django_capture_on_commit_callbacks
):
    # before: the prison's staff see the person (finance no personal records), Niš nothing
    assert answers(centres) == {
        "prison_officer": (200, 200, 200),
        "prison_manager": (200, 200, 200),
        "prison_finance": (403, 200, 200),
        "nis_officer": (404, 404, 404),
        "nis_manager": (404, 404, 404),
        "nis_finance": (403, 404, 404),
    }
    earlier_events = AuditEvent.objects.count()
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_post(
            centres.users["prison_manager"],
            "api:applicant-transfer",
            {"to_centre": centres.nis.pk},
            pk=centres.person.pk,
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "done"
    assert sorted(response.json()["moved_applications"]) == sorted([centres.draft.pk, centres.submitted.pk])

    # after: the other way round
    assert answers(centres) == {
        "prison_officer": (404, 404, 404),
        "prison_manager": (404, 404, 404),
        "prison_finance": (403, 404, 404),
        "nis_officer": (200, 200, 200),
        "nis_manager": (200, 200, 200),
        "nis_finance": (403, 200, 200),
    }
    assert Applicant.objects.get(pk=centres.person.pk).centre_id == centres.nis.pk
    moved = GrantApplication.objects.get(pk=centres.draft.pk)
    assert moved.centre_id == centres.nis.pk and moved.assigned_officer_id is None
    # a closed grant stays with the centre that ran it
    assert GrantApplication.objects.get(pk=centres.closed.pk).centre_id == centres.prison.pk

    # the trail keeps what was (nothing removed) and shows the move, read by Niš
    assert AuditEvent.objects.filter(pk__lte=last_event).count() == earlier_events
    assert AuditEvent.objects.filter(action="case_transferred").count() == 3
    reader = APIClient()
    reader.force_authenticate(centres.users["nis_officer"])
    events = reader.get(reverse("api:audit-events"), {"application": centres.submitted.pk}).json()["results"]
    moves = [e for e in events if e["action"] == "case_transferred"]
    assert len(moves) == 1 and moves[0]["actor"]
    application_move = AuditEvent.objects.get(pk=moves[0]["id"])
    assert application_move.data["before"]["centre"] == centres.prison.pk
    assert application_move.data["after"]["centre"] == centres.nis.pk
    person_move = AuditEvent.objects.get(action="case_transferred", application__isnull=True)
    assert person_move.data["before"] == {"centre": centres.prison.pk}
    assert person_move.actor_id == centres.users["prison_manager"].pk
    # the prison's staff read no more of it
    prison_reader = APIClient()
    prison_reader.force_authenticate(centres.users["prison_officer"])
    assert (
        prison_reader.get(reverse("api:audit-events"), {"application": centres.submitted.pk}).json()["count"]
        == 0
    )

    # the person is told, in their language (Albanian)
    notice = Notification.objects.get(key__startswith="transfer:")
    assert notice.language == "sq" and notice.email == "person@example.test"
    assert "Integration Centre Niš" in notice.subject


def test_the_receiving_officer_asks_and_the_sending_officer_confirms(centres):
    nis_officer = centres.users["nis_officer"]
    body = {
        "applicant": centres.person.pk,
        "date_of_birth": centres.person.date_of_birth.isoformat(),
        "to_centre": centres.nis.pk,
    }
    wrong = {**body, "date_of_birth": "1970-01-01"}
    assert api_post(nis_officer, "api:transfers", wrong).status_code == 404
    assert not CaseTransfer.objects.exists()
    response = api_post(nis_officer, "api:transfers", body)
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    # asked, not moved: the prison still has the case
    assert api_get(nis_officer, "api:applicant", centres.person.pk).status_code == 404
    # the asking side cannot confirm its own request
    assert api_post(nis_officer, "api:transfer-confirm", pk=pk).status_code == 403
    assert api_post(centres.users["nis_manager"], "api:transfer-confirm", pk=pk).status_code == 403
    # finance of the sending centre does not see it
    assert api_post(centres.users["prison_finance"], "api:transfer-confirm", pk=pk).status_code == 404
    response = api_post(centres.users["prison_officer"], "api:transfer-confirm", pk=pk)
    assert response.status_code == 200, response.content
    assert GrantApplication.objects.get(pk=centres.submitted.pk).assigned_officer_id == nis_officer.pk
    assert api_get(nis_officer, "api:applicant", centres.person.pk).status_code == 200
    assert api_get(centres.users["prison_officer"], "api:applicant", centres.person.pk).status_code == 404
    # decided once
    assert api_post(nis_officer, "api:transfer-decline", pk=pk).status_code in (403, 409)
    transfer = CaseTransfer.objects.get(pk=pk)
    assert transfer.status == "done" and transfer.from_centre_id == centres.prison.pk
    assert transfer.decided_by_id == centres.users["prison_officer"].pk


def test_a_declined_request_leaves_the_case_where_it_is(centres):
    transfer = services.request_transfer(
        applicant_id=centres.person.pk,
        date_of_birth=centres.person.date_of_birth,
        to_centre=centres.nis,
        by=centres.users["nis_officer"],
    )
    response = api_post(centres.users["prison_manager"], "api:transfer-decline", pk=transfer.pk)
    assert response.status_code == 200
    assert Applicant.objects.get(pk=centres.person.pk).centre_id == centres.prison.pk
    assert AuditEvent.objects.filter(action="case_transfer_declined").count() == 1
    assert (
        api_post(centres.users["prison_manager"], "api:transfer-confirm", pk=transfer.pk).status_code == 409
    )


@pytest.mark.parametrize(
    ("who", "where", "expected"),
    [
        ("prison_officer", "nis", 403),  # officers ask from the receiving side
        ("prison_finance", "nis", 404),  # no personal records
        ("nis_manager", "nis", 404),  # not their person
        ("prison_manager", "prison", 400),  # already there
        ("prison_manager", "prizren", 400),  # another country, other programmes
        ("prison_manager", "nowhere", 400),
    ],
)
def test_it_refuses_a_move_with_a_reason_and_changes_nothing(centres, who, where, expected):
    target = {"nis": centres.nis.pk, "prison": centres.prison.pk, "prizren": centres.prizren.pk}.get(where, 0)
    response = api_post(
        centres.users[who], "api:applicant-transfer", {"to_centre": target}, pk=centres.person.pk
    )
    assert response.status_code == expected, response.content
    assert Applicant.objects.get(pk=centres.person.pk).centre_id == centres.prison.pk
    assert not CaseTransfer.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="case_transfer").exists()


def test_only_field_officers_of_the_receiving_centre_ask(centres):
    body = {
        "applicant": centres.person.pk,
        "date_of_birth": centres.person.date_of_birth.isoformat(),
        "to_centre": centres.nis.pk,
    }
    for key in ("prison_officer", "nis_manager", "nis_finance"):
        assert api_post(centres.users[key], "api:transfers", body).status_code == 403, key
    applicant_user = ApplicantFactory(centre=centres.nis, with_user=True).user
    assert api_post(applicant_user, "api:transfers", body).status_code == 403


def test_the_transfer_list_is_filtered_in_the_database(centres, django_assert_max_num_queries):
    for index in range(3):
        person = ApplicantFactory(centre=centres.prison, date_of_birth=datetime.date(1980, 1, 1 + index))
        services.request_transfer(
            applicant_id=person.pk,
            date_of_birth=person.date_of_birth,
            to_centre=centres.nis,
            by=centres.users["nis_officer"],
        )
    elsewhere = CentreFactory(country=centres.nis.country, name="Kraljevo")
    stranger = ApplicantFactory(centre=elsewhere)
    CaseTransfer.objects.create(applicant=stranger, from_centre=elsewhere, to_centre=centres.prison)
    for key, expected in (("prison_officer", 4), ("nis_officer", 3), ("nis_manager", 3)):
        client = APIClient()
        client.force_authenticate(type(centres.users[key]).objects.get(pk=centres.users[key].pk))
        with django_assert_max_num_queries(8):
            response = client.get(reverse("api:transfers"))
        assert response.json()["count"] == expected, key
    assert api_get_list(centres.users["prison_finance"]).status_code == 403


def api_get_list(user):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(reverse("api:transfers"))
