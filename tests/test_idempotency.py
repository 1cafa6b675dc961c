"""Idempotent writes (docs/api.md "Idempotency"): the same key and body give the first
answer again without a second effect, the same key with another body is refused, and two
requests racing with one key have one effect (PostgreSQL)."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from applicants import tokens
from grants.models import GrantApplication
from integrations.idempotency import purge_expired
from integrations.models import IdempotentRequest

from .conftest import run_at_once

DRAFTS = "/api/v1/applications/"


def token_client(user):
    """A client signed in with an API token, as an integration is."""
    _, key = tokens.issue_token(user=user, device="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def draft_body(world, name="Bakery"):
    return {
        "programme": world.programme.pk,
        "business_name": name,
        "sector": "crafts",
        "items": [{"description": "Oven", "quantity": 1, "unit_cost": "900.00"}],
    }


def drafts(world):
    return GrantApplication.objects.filter(applicant=world.person).count()


@pytest.mark.django_db
class TestOneEffectPerKey:
    def test_the_same_post_twice_makes_one_draft_and_the_same_answer(self, world):
        client, key = token_client(world.applicant), str(uuid.uuid4())
        before = drafts(world)

        first = client.post(DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)
        again = client.post(DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)

        assert first.status_code == 201, first.content
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert drafts(world) == before + 1

    def test_without_a_key_each_post_is_its_own(self, world):
        client = token_client(world.applicant)
        before = drafts(world)
        client.post(DRAFTS, draft_body(world), format="json")
        client.post(DRAFTS, draft_body(world), format="json")
        assert drafts(world) == before + 2

    def test_the_same_key_with_another_body_is_refused_and_changes_nothing(self, world):
        client, key = token_client(world.applicant), str(uuid.uuid4())
        client.post(DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)
        before = drafts(world)

        other = client.post(
            DRAFTS, draft_body(world, name="Workshop"), format="json", HTTP_IDEMPOTENCY_KEY=key
        )

        assert other.status_code == 422
        assert other.json()["code"] == "idempotency_key_reused"
        assert drafts(world) == before

    def test_the_same_key_on_another_path_is_refused(self, world):
        client, key = token_client(world.applicant), str(uuid.uuid4())
        first = client.post(DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)
        pk = first.json()["id"]
        other = client.post(
            f"{DRAFTS}{pk}/transitions/withdraw/", {}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert other.status_code == 422
        assert GrantApplication.objects.get(pk=pk).state == "draft"

    def test_a_transition_sent_twice_is_done_once_and_answered_the_same(self, world):
        client, key = token_client(world.applicant), str(uuid.uuid4())
        pk = client.post(DRAFTS, draft_body(world), format="json").json()["id"]
        path = f"{DRAFTS}{pk}/transitions/withdraw/"

        first = client.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
        again = client.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
        without_key = client.post(path, {}, format="json")

        assert first.status_code == 200, first.content
        assert (again.status_code, again.json()) == (200, first.json())
        assert without_key.status_code in (400, 409)  # a second withdrawal is refused
        assert GrantApplication.objects.get(pk=pk).state == "withdrawn"

    def test_a_refusal_is_kept_too(self, world):
        client, key = token_client(world.applicant), str(uuid.uuid4())
        bad = {**draft_body(world), "items": [{"description": "Oven", "quantity": 0, "unit_cost": "1"}]}
        before = drafts(world)
        first = client.post(DRAFTS, bad, format="json", HTTP_IDEMPOTENCY_KEY=key)
        again = client.post(DRAFTS, bad, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == again.status_code == 400
        assert again.json() == first.json()
        assert drafts(world) == before

    def test_keys_are_each_users_own(self, world):
        key = str(uuid.uuid4())
        officer_client = token_client(world.officer)
        mine = token_client(world.applicant).post(
            DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        theirs = officer_client.post(
            f"{DRAFTS}{mine.json()['id']}/transitions/withdraw/", {}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        # The officer's request is their own: it runs (and is judged on its own rights).
        assert "Idempotent-Replayed" not in theirs
        assert IdempotentRequest.objects.filter(key=key).count() == 2

    @pytest.mark.parametrize("key", ["", "x" * 256, "with space", "ключ"])
    def test_a_key_that_cannot_be_one_is_refused_before_anything_is_done(self, world, key):
        client = token_client(world.applicant)
        before = drafts(world)
        response = client.post(DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_invalid"
        assert drafts(world) == before

    def test_signing_in_is_never_replayed(self, world, settings):
        key = str(uuid.uuid4())
        client = APIClient()
        body = {"username": world.applicant.username, "password": "wrong-password-here"}
        client.post("/api/v1/auth/token/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert not IdempotentRequest.objects.filter(key=key).exists()

    def test_keys_are_forgotten_after_their_time(self, world, settings):
        settings.IDEMPOTENCY_KEY_HOURS = 24
        client = token_client(world.applicant)
        client.post(DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY="old")
        client.post(DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY="new")
        IdempotentRequest.objects.filter(key="old").update(created=timezone.now() - timedelta(hours=25))

        assert purge_expired() == 1
        assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
        call_command("purge_idempotency_keys")
        assert IdempotentRequest.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_have_one_effect(world):
    key = str(uuid.uuid4())
    before = drafts(world)
    clients = [token_client(world.applicant) for _ in range(4)]

    def send(client):
        return lambda: client.post(DRAFTS, draft_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)

    answers = run_at_once([send(c) for c in clients])

    assert [a.status_code for a in answers] == [201] * 4, answers
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.get("Idempotent-Replayed") == "true" for a in answers) == 3
    assert drafts(world) == before + 1


@pytest.mark.django_db
class TestStaleEditsAreRefused:
    """A draft's read gives an ETag; an edit sent with `If-Match` is made only if nothing
    changed since that read (docs/api.md "Idempotency")."""

    def read(self, client, pk):
        response = client.get(f"{DRAFTS}{pk}/")
        assert response.status_code == 200
        return response["ETag"]

    def test_an_edit_of_the_current_version_is_made_and_gets_a_new_etag(self, world):
        client = token_client(world.applicant)
        pk = client.post(DRAFTS, draft_body(world), format="json").json()["id"]
        etag = self.read(client, pk)

        response = client.patch(
            f"{DRAFTS}{pk}/", {"business_name": "Bakery Demić"}, format="json", HTTP_IF_MATCH=etag
        )

        assert response.status_code == 200, response.content
        assert response["ETag"] != etag
        assert response["ETag"] == self.read(client, pk)

    def test_a_stale_edit_gets_412_and_never_overwrites(self, world):
        client, officer = token_client(world.applicant), token_client(world.officer)
        pk = client.post(DRAFTS, draft_body(world), format="json").json()["id"]
        GrantApplication.objects.filter(pk=pk).update(assigned_officer=world.officer)
        etag = self.read(client, pk)
        # Meanwhile the officer, on the applicant's behalf, renames the business.
        assert (
            officer.patch(f"{DRAFTS}{pk}/", {"business_name": "Officer's name"}, format="json").status_code
            == 200
        )

        stale = client.patch(f"{DRAFTS}{pk}/", {"business_name": "Mine"}, format="json", HTTP_IF_MATCH=etag)

        assert stale.status_code == 412
        assert stale.json()["code"] == "precondition_failed"
        assert GrantApplication.objects.get(pk=pk).business_name == "Officer's name"

    def test_an_item_change_changes_the_etag(self, world):
        client = token_client(world.applicant)
        pk = client.post(DRAFTS, draft_body(world), format="json").json()["id"]
        etag = self.read(client, pk)
        items = [{"description": "Oven", "quantity": 2, "unit_cost": "900.00"}]
        assert client.patch(f"{DRAFTS}{pk}/", {"items": items}, format="json").status_code == 200
        assert self.read(client, pk) != etag

    def test_without_if_match_the_edit_is_made_as_before(self, world):
        client = token_client(world.applicant)
        pk = client.post(DRAFTS, draft_body(world), format="json").json()["id"]
        assert client.patch(f"{DRAFTS}{pk}/", {"business_name": "Plain"}, format="json").status_code == 200
        assert GrantApplication.objects.get(pk=pk).business_name == "Plain"

    def test_a_wildcard_matches_any_version(self, world):
        client = token_client(world.applicant)
        pk = client.post(DRAFTS, draft_body(world), format="json").json()["id"]
        response = client.patch(f"{DRAFTS}{pk}/", {"business_name": "Any"}, format="json", HTTP_IF_MATCH="*")
        assert response.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_edits_of_one_read_at_once_one_wins_the_other_gets_412(world):
    reader = token_client(world.applicant)
    pk = reader.post(DRAFTS, draft_body(world), format="json").json()["id"]
    etag = reader.get(f"{DRAFTS}{pk}/")["ETag"]
    clients = [token_client(world.applicant) for _ in range(2)]

    def edit(client, name):
        return lambda: client.patch(
            f"{DRAFTS}{pk}/", {"business_name": name}, format="json", HTTP_IF_MATCH=etag
        )

    answers = run_at_once([edit(clients[0], "First"), edit(clients[1], "Second")])

    assert sorted(a.status_code for a in answers) == [200, 412]
    winner = next(a for a in answers if a.status_code == 200)
    assert GrantApplication.objects.get(pk=pk).business_name == winner.json()["business_name"]
