"""Changes without polling everything (docs/api.md "Changes"): `updated_since` and
`ordering` on the lists, strict; the audit trail as a change feed with a cursor that
never misses or repeats an event, filtered as the audit-events list is."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from applicants import roles, service_accounts
from applicants import services as applicant_services
from applicants.models import Applicant, ReferralPartner
from assessments.models import MonitoringVisit
from audit import trail
from grants.models import Delivery, Document, GrantApplication

from .factories import ApplicantFactory, DeliveryFactory, DocumentFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def key_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def nis(world):
    """A Niš-scoped service account's client (a field officer's role)."""
    _account, key = service_accounts.create_service_account(
        by=world.manager, name="Niš sync", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
    )
    return key_client(key)


def stamp(model, obj, moment):
    model.objects.filter(pk=obj.pk).update(updated_at=moment)


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


class TestUpdatedSince:
    def test_applications_changed_since_are_listed_and_older_ones_are_not(self, world, api):
        old, new = world.application(), world.application()
        stamp(GrantApplication, old, NOW - datetime.timedelta(days=3))
        stamp(GrantApplication, new, NOW - datetime.timedelta(hours=1))
        since = (NOW - datetime.timedelta(days=1)).isoformat()

        found = ids(api(world.officer).get("/api/v1/applications/", {"updated_since": since}))

        assert found == [new.pk]

    def test_an_offset_other_than_utc_means_the_same_moment(self, world, api):
        app = world.application()
        stamp(GrantApplication, app, datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC))
        client = api(world.officer)
        assert ids(client.get("/api/v1/applications/", {"updated_since": "2026-03-01T11:00:00+01:00"})) == [
            app.pk
        ]
        assert ids(client.get("/api/v1/applications/", {"updated_since": "2026-03-01T11:00:01+01:00"})) == []
        # An unencoded "+" arrives as a space: still read as the offset.
        assert ids(client.get("/api/v1/applications/?updated_since=2026-03-01T11:00:00+01:00")) == [app.pk]

    @pytest.mark.parametrize(
        ("value", "message"),
        [("2026-03-01T10:00:00", "time zone"), ("yesterday", "ISO 8601"), ("2026-03-01", "ISO 8601")],
    )
    def test_a_bad_or_naive_value_is_400_naming_the_field(self, world, api, value, message):
        response = api(world.officer).get("/api/v1/applications/", {"updated_since": value})
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert message in body["updated_since"][0]

    def test_every_list_with_a_timestamp_takes_it(self, world, api):
        app = world.application(follow_up=True)
        person = app.applicant
        delivery = DeliveryFactory(application=app)
        document = DocumentFactory(application=app)
        visit = app.visits.first() or MonitoringVisit.objects.create(
            application=app, months=3, due_on=timezone.localdate()
        )
        old = NOW - datetime.timedelta(days=5)
        for model, obj in (
            (Applicant, person),
            (Delivery, delivery),
            (Document, document),
            (MonitoringVisit, visit),
        ):
            stamp(model, obj, old)
        client = api(world.officer)
        lists = [
            ("/api/v1/applicants/", person.pk),
            (f"/api/v1/applications/{app.pk}/deliveries/", delivery.pk),
            (f"/api/v1/applications/{app.pk}/documents/", document.pk),
            (f"/api/v1/applications/{app.pk}/visits/", visit.pk),
        ]
        for path, pk in lists:
            before = (old - datetime.timedelta(minutes=1)).isoformat()
            after = (old + datetime.timedelta(minutes=1)).isoformat()
            assert pk in ids(client.get(path, {"updated_since": before})), path
            assert pk not in ids(client.get(path, {"updated_since": after})), path
            assert client.get(path, {"updated_since": "soon"}).status_code == 400, path
            assert client.get(path, {"ordering": "nonsense"}).status_code == 400, path

    def test_a_change_through_a_service_moves_updated_at(self, world, api):
        app = world.application(follow_up=True)
        person = app.applicant
        stamp(Applicant, person, NOW - datetime.timedelta(days=5))
        partner = ReferralPartner.objects.create(name="Roma Association Niš", country=world.serbia)
        applicant_services.record_referral(applicant=person, partner=partner, by=world.officer)
        person.refresh_from_db()
        assert person.updated_at > NOW - datetime.timedelta(minutes=1)


class TestOrdering:
    def test_applications_in_the_order_asked_with_the_id_breaking_ties(self, world, api):
        a, b, c = world.application(), world.application(), world.application()
        stamp(GrantApplication, a, NOW - datetime.timedelta(hours=1))
        stamp(GrantApplication, b, NOW - datetime.timedelta(hours=3))
        stamp(GrantApplication, c, NOW - datetime.timedelta(hours=1))
        client = api(world.officer)

        assert ids(client.get("/api/v1/applications/", {"ordering": "updated_at"})) == [b.pk, a.pk, c.pk]
        assert ids(client.get("/api/v1/applications/", {"ordering": "-updated_at"})) == [c.pk, a.pk, b.pk]
        assert ids(client.get("/api/v1/applications/", {"ordering": "id"})) == [a.pk, b.pk, c.pk]

    def test_an_ordering_not_offered_is_400_naming_the_field(self, world, api):
        response = api(world.officer).get("/api/v1/applications/", {"ordering": "applicant__last_name"})
        assert response.status_code == 400
        assert "ordering" in response.json()

    def test_visits_due_take_both(self, world, api):
        app = world.application(follow_up=True, state_facts__delivered_on=timezone.localdate())
        response = api(world.officer).get(
            "/api/v1/visits/due/", {"ordering": "-updated_at", "within_days": 366}
        )
        assert response.status_code == 200
        assert {row["application"] for row in response.json()["results"]} == {app.pk}
        assert "updated_at" in response.json()["results"][0]
        assert api(world.officer).get("/api/v1/visits/due/", {"ordering": "months"}).status_code == 400


def poll(client, cursor=None, **params):
    if cursor is not None:
        params["cursor"] = cursor
    response = client.get("/api/v1/changes/", params)
    assert response.status_code == 200, response.content
    body = response.json()
    return body, [row["id"] for row in body["results"]]


class TestChangeFeed:
    def test_events_written_between_two_polls_appear_exactly_once(self, world, nis):
        nis_app = world.application()
        prizren_app = world.application(applicant=world.person2, programme=world.other_programme)
        first, _seen = poll(nis)
        cursor = first["next_cursor"]
        assert cursor

        written = [
            trail.record(action="note_one", actor=world.officer, application=nis_app),
            trail.record(action="note_prizren", actor=world.officer2, application=prizren_app),
            trail.record(action="note_two", actor=world.officer, application=nis_app),
        ]
        second, seen = poll(nis, cursor)
        third, again = poll(nis, second["next_cursor"])

        assert seen == [written[0].pk, written[2].pk]
        assert again == []
        assert third["next_cursor"] == second["next_cursor"]  # empty: the cursor stays, still given
        assert third["has_more"] is False
        later = trail.record(action="note_three", actor=world.officer, application=nis_app)
        _fourth, last = poll(nis, third["next_cursor"])
        assert last == [later.pk]

    def test_paging_through_with_a_small_limit_misses_and_repeats_nothing(self, world, api):
        app = world.application()
        for n in range(7):
            trail.record(action=f"note_{n}", actor=world.officer, application=app)
        everything = [e for e in poll(api(world.officer), limit=500)[1]]
        collected, cursor, rounds = [], None, 0
        while True:
            body, seen = poll(api(world.officer), cursor, limit=3)
            collected += seen
            cursor = body["next_cursor"]
            rounds += 1
            if not body["has_more"]:
                break
        assert collected == everything == sorted(everything)
        assert len(set(collected)) == len(collected) and rounds == -(-len(everything) // 3)

    def test_a_nis_account_never_sees_prizren_whatever_the_cursor(self, world, nis):
        prizren_app = world.application(applicant=world.person2, programme=world.other_programme)
        hidden = trail.record(action="note_prizren", actor=world.officer2, application=prizren_app)
        trail.record(action="applicant_note", actor=world.officer2, applicant=world.person2)

        body, seen = poll(nis)
        assert hidden.pk not in seen
        assert all(row["application"] != prizren_app.pk for row in body["results"])
        assert all(row.get("applicant") != world.person2.pk for row in body["results"])

    def test_the_auditor_reads_rows_without_personal_data(self, world, api):
        app = world.application()
        trail.record(action="note", actor=world.officer, application=app, comment="private words")
        body, _seen = poll(api(world.auditor))
        row = body["results"][-1]
        assert "comment" not in row and "applicant" not in row

    def test_roles_that_do_not_read_the_trail_are_refused(self, world, api):
        assert api(world.applicant).get("/api/v1/changes/").status_code == 403
        assert api(world.finance).get("/api/v1/changes/").status_code == 403
        assert APIClient().get("/api/v1/changes/").status_code == 401

    @pytest.mark.parametrize("cursor", ["nonsense", "YWUxOi0x", "Zm9vOjEy", "!!"])
    def test_a_cursor_the_feed_did_not_give_is_400(self, world, api, cursor):
        response = api(world.officer).get("/api/v1/changes/", {"cursor": cursor})
        assert response.status_code == 400
        assert "cursor" in response.json() and response.json()["code"] == "cursor_unknown"

    @pytest.mark.parametrize("limit", ["0", "501", "many"])
    def test_a_bad_limit_is_400(self, world, api, limit):
        response = api(world.officer).get("/api/v1/changes/", {"limit": limit})
        assert response.status_code == 400 and "limit" in response.json()

    def test_the_query_count_does_not_grow_with_the_events(self, world, nis, django_assert_max_num_queries):
        for n in range(3):
            app = world.application(applicant=ApplicantFactory(centre=world.centre))
            for step in range(5):
                trail.record(action=f"note_{step}", actor=world.officer, application=app, comment="c")
        with django_assert_max_num_queries(12):
            body, seen = poll(nis, limit=500)
        assert len(seen) >= 15
