"""The transfer of a case on the web: the manager's move from the people list, the
receiving officer's request and the sending centre's decision, role by role, with the
same rules as the API (tests/test_case_transfer.py)."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from grants.models import CaseTransfer, GrantApplication

from .conftest import verified_login
from .test_case_transfer import Centres

pytestmark = pytest.mark.django_db


@pytest.fixture
def centres():
    return Centres()


def page_for(user):
    client = Client()
    verified_login(client, user)
    return client


def test_menu_leads_officers_and_managers_to_transfers(centres):
    for key in ("prison_officer", "prison_manager", "nis_officer"):
        answer = page_for(centres.users[key]).get(reverse("home"), follow=True)
        assert reverse("transfer-list").encode() in answer.content, key
    answer = page_for(centres.users["prison_finance"]).get(reverse("transfer-list"))
    assert answer.status_code == 403


def test_manager_moves_a_person_from_the_people_list(centres):
    manager = page_for(centres.users["prison_manager"])
    people = manager.get(reverse("applicant-list"))
    move_url = reverse("person-move", args=[centres.person.pk])
    assert move_url.encode() in people.content
    form = manager.get(move_url)
    assert form.status_code == 200
    # The same country only, and never the centre the person is at.
    assert centres.nis.name.encode() in form.content
    assert centres.prizren.name.encode() not in form.content

    answer = manager.post(move_url, {"to_centre": centres.nis.pk})
    assert answer.status_code == 302
    centres.person.refresh_from_db()
    assert centres.person.centre_id == centres.nis.pk
    moved = set(GrantApplication.objects.filter(centre=centres.nis).values_list("pk", flat=True))
    assert moved == {centres.draft.pk, centres.submitted.pk}
    assert AuditEvent.objects.filter(action="case_transferred", applicant=centres.person).exists()
    # The sending centre's officer no longer opens the person's application.
    officer = page_for(centres.users["prison_officer"])
    assert officer.get(reverse("application-detail", args=[centres.draft.pk])).status_code == 404


def test_move_to_another_country_is_refused_and_changes_nothing(centres):
    manager = page_for(centres.users["prison_manager"])
    answer = manager.post(reverse("person-move", args=[centres.person.pk]), {"to_centre": centres.prizren.pk})
    assert answer.status_code == 400
    assert b"error-summary" in answer.content
    centres.person.refresh_from_db()
    assert centres.person.centre_id == centres.prison.pk
    assert not CaseTransfer.objects.exists()


def test_only_managers_of_the_persons_centre_move_them(centres):
    url = reverse("person-move", args=[centres.person.pk])
    assert page_for(centres.users["prison_officer"]).get(url).status_code == 403
    assert page_for(centres.users["nis_manager"]).get(url).status_code == 404
    assert page_for(centres.users["nis_manager"]).post(url, {"to_centre": centres.nis.pk}).status_code == 404
    centres.person.refresh_from_db()
    assert centres.person.centre_id == centres.prison.pk


def test_receiving_officer_asks_and_the_sending_centre_confirms(centres):
    nis_officer = page_for(centres.users["nis_officer"])
    answer = nis_officer.post(
        reverse("transfer-request"),
        {
            "applicant": centres.person.pk,
            "date_of_birth": centres.person.date_of_birth.isoformat(),
            "to_centre": centres.nis.pk,
        },
    )
    assert answer.status_code == 302
    transfer = CaseTransfer.objects.get()
    assert transfer.status == CaseTransfer.Status.REQUESTED
    # The asking officer sees the request by number, not by name: the person is not theirs yet.
    listing = nis_officer.get(reverse("transfer-list"))
    assert centres.person.last_name.encode() not in listing.content
    assert reverse("transfer-decide", args=[transfer.pk]).encode() not in listing.content

    prison_officer = page_for(centres.users["prison_officer"])
    listing = prison_officer.get(reverse("transfer-list"))
    assert centres.person.last_name.encode() in listing.content
    decided = prison_officer.post(reverse("transfer-decide", args=[transfer.pk]), {"decision": "confirm"})
    assert decided.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.DONE
    centres.person.refresh_from_db()
    assert centres.person.centre_id == centres.nis.pk
    assert (
        GrantApplication.objects.get(pk=centres.submitted.pk).assigned_officer_id
        == centres.users["nis_officer"].pk
    )
    # Afterwards the sending centre sees the transfer by number only.
    listing = prison_officer.get(reverse("transfer-list"))
    assert centres.person.last_name.encode() not in listing.content


def test_a_wrong_date_of_birth_reads_like_no_such_person(centres):
    nis_officer = page_for(centres.users["nis_officer"])
    answer = nis_officer.post(
        reverse("transfer-request"),
        {"applicant": centres.person.pk, "date_of_birth": "1900-01-01", "to_centre": centres.nis.pk},
    )
    assert answer.status_code == 400
    assert b"error-summary" in answer.content
    assert not CaseTransfer.objects.exists()


def test_the_receiving_officer_cannot_decide_their_own_request(centres):
    nis_officer = page_for(centres.users["nis_officer"])
    nis_officer.post(
        reverse("transfer-request"),
        {
            "applicant": centres.person.pk,
            "date_of_birth": centres.person.date_of_birth.isoformat(),
            "to_centre": centres.nis.pk,
        },
    )
    transfer = CaseTransfer.objects.get()
    nis_officer.post(reverse("transfer-decide", args=[transfer.pk]), {"decision": "confirm"})
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.REQUESTED
    centres.person.refresh_from_db()
    assert centres.person.centre_id == centres.prison.pk


def test_decline_keeps_the_case(centres):
    services_user = centres.users["nis_officer"]
    page_for(services_user).post(
        reverse("transfer-request"),
        {
            "applicant": centres.person.pk,
            "date_of_birth": centres.person.date_of_birth.isoformat(),
            "to_centre": centres.nis.pk,
        },
    )
    transfer = CaseTransfer.objects.get()
    page_for(centres.users["prison_manager"]).post(
        reverse("transfer-decide", args=[transfer.pk]), {"decision": "decline"}
    )
    transfer.refresh_from_db()
    assert transfer.status == CaseTransfer.Status.DECLINED
    centres.person.refresh_from_db()
    assert centres.person.centre_id == centres.prison.pk


def test_transfer_list_reads_in_bounded_queries(centres, django_assert_max_num_queries):
    for _ in range(3):
        CaseTransfer.objects.create(
            applicant=centres.person,
            from_centre=centres.prison,
            to_centre=centres.nis,
            requested_by=centres.users["nis_officer"],
            status=CaseTransfer.Status.DECLINED,
        )
    manager = page_for(centres.users["prison_manager"])
    manager.get(reverse("transfer-list"))
    with django_assert_max_num_queries(20):
        answer = manager.get(reverse("transfer-list"))
    assert answer.content.count(b"no. ") >= 3
