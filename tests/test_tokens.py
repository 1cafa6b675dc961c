"""API tokens: a new one for each sign-in (one per device), stored as a hash, listed and
revoked by their owner only (role by role), all revoked when the password changes by
any path, expiring for every role, and the devices page in the account area."""

import hashlib
import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import authenticate
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from applicants.models import ApiToken
from applicants.tokens import issue_token
from demo.seed import totp_key_hex
from grants.models import AuditEvent
from privacy.subjects import erase_applicant

from .conftest import otp_now, verified_login

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
ROLES = ["applicant", "officer", "manager", "finance", "auditor"]


def sign_in(username, otp=None, **extra):
    body = {"username": username, "password": PASSWORD, **extra}
    if otp is not None:
        body["otp"] = otp
    return APIClient().post(
        "/api/v1/auth/token/", body, format="json", HTTP_USER_AGENT="FieldApp/2.1 (Android 14)"
    )


def with_key(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def works(key):
    return with_key(key).get("/api/v1/programmes/").status_code == 200


def user_of(world, role):
    user = getattr(world, role)
    if role != "applicant":
        TOTPDevice.objects.get_or_create(
            user=user, name="phone", defaults={"key": totp_key_hex(), "confirmed": True}
        )
    return user


class TestIssuing:
    def test_it_gives_each_sign_in_its_own_token(self, world):
        first = sign_in(world.applicant.username, device="Marko's phone")
        second = sign_in(world.applicant.username)
        assert first.status_code == second.status_code == 200
        keys = [first.json()["token"], second.json()["token"]]
        assert keys[0] != keys[1]
        assert all(works(key) for key in keys)
        devices = list(ApiToken.objects.filter(user=world.applicant).values_list("device", flat=True))
        assert sorted(devices) == ["FieldApp/2.1 (Android 14)", "Marko's phone"]
        assert AuditEvent.objects.filter(action="api_token_issued", actor=world.applicant).count() == 2

    def test_the_answer_keeps_its_shape_and_adds_id_and_expiry(self, world):
        body = sign_in(world.applicant.username).json()
        assert set(body) == {"token", "id", "expires"}
        assert len(body["token"]) == 40
        assert ApiToken.objects.get(pk=body["id"]).user == world.applicant

    def test_only_a_hash_of_the_key_is_stored(self, world):
        key = sign_in(world.applicant.username).json()["token"]
        token = ApiToken.objects.get(user=world.applicant)
        assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM applicants_apitoken")
            stored = repr(cursor.fetchall())
        assert key not in stored
        assert with_key(token.key_hash).get("/api/v1/programmes/").status_code == 401

    def test_a_too_long_device_name_is_refused_with_a_message(self, world):
        response = sign_in(world.applicant.username, device="x" * 101)
        assert response.status_code == 400
        assert "device" in response.json()
        assert not ApiToken.objects.exists()

    def test_staff_tokens_expire_after_staff_token_hours_applicants_after_days(self, world, settings):
        settings.STAFF_TOKEN_HOURS = 12
        settings.APPLICANT_TOKEN_DAYS = 30
        staff_token, _ = issue_token(user=world.officer)
        applicant_token, _ = issue_token(user=world.applicant)
        assert staff_token.expires - staff_token.created == timedelta(hours=12)
        assert applicant_token.expires - applicant_token.created == timedelta(days=30)

    def test_a_shorter_setting_applies_to_tokens_already_issued(self, world, settings):
        token, key = issue_token(user=world.officer)
        settings.STAFF_TOKEN_HOURS = 1
        ApiToken.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(hours=2))
        assert with_key(key).get("/api/v1/programmes/").status_code == 401

    def test_an_inactive_account_s_tokens_stop_working(self, world):
        _token, key = issue_token(user=world.applicant)
        world.applicant.is_active = False
        world.applicant.save(update_fields=["is_active"])
        assert not works(key)

    def test_last_used_is_written_at_most_once_a_minute(self, world):
        token, key = issue_token(user=world.applicant)
        client = with_key(key)
        client.get("/api/v1/programmes/")
        token.refresh_from_db()
        first_use = token.last_used
        assert first_use is not None
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/programmes/")
        assert not [q for q in queries if q["sql"].startswith("UPDATE") and "apitoken" in q["sql"]]
        ApiToken.objects.filter(pk=token.pk).update(last_used=first_use - timedelta(minutes=2))
        client.get("/api/v1/programmes/")
        token.refresh_from_db()
        assert token.last_used > first_use - timedelta(minutes=1)


class TestListAndRevoke:
    @pytest.mark.parametrize("role", ROLES)
    def test_each_role_lists_only_its_own_tokens_never_a_key(self, world, role):
        user = user_of(world, role)
        mine, key = issue_token(user=user, device="laptop")
        issue_token(user=world.applicant2, device="someone else's phone")
        response = with_key(key).get("/api/v1/auth/tokens/")
        assert response.status_code == 200
        [row] = response.json()
        assert row["id"] == mine.pk
        assert row["device"] == "laptop"
        assert row["current"] is True
        assert set(row) == {"id", "device", "created", "last_used", "expires", "current"}
        assert key not in response.content.decode()
        assert mine.key_hash not in response.content.decode()

    def test_the_list_takes_the_same_queries_for_many_tokens(self, world, django_assert_max_num_queries):
        _token, key = issue_token(user=world.applicant)
        client = with_key(key)
        with django_assert_max_num_queries(8):
            client.get("/api/v1/auth/tokens/")
        for index in range(20):
            issue_token(user=world.applicant, device=f"device {index}")
        with django_assert_max_num_queries(8):
            assert len(client.get("/api/v1/auth/tokens/").json()) == 21

    @pytest.mark.parametrize("role", ROLES)
    def test_each_role_revokes_its_own_token_and_nobody_else_s(self, world, role):
        user = user_of(world, role)
        _current, key = issue_token(user=user)
        lost, lost_key = issue_token(user=user, device="lost phone")
        others, others_key = issue_token(user=world.applicant2)
        client = with_key(key)
        refused = client.delete(f"/api/v1/auth/tokens/{others.pk}/")
        missing = client.delete("/api/v1/auth/tokens/987654/")
        assert refused.status_code == missing.status_code == 404
        assert refused.content == missing.content
        assert works(others_key)
        assert client.delete(f"/api/v1/auth/tokens/{lost.pk}/").status_code == 204
        assert not works(lost_key)
        assert works(key)
        event = AuditEvent.objects.get(action="api_token_revoked")
        assert (event.actor, event.data) == (user, {"token": lost.pk})

    def test_signing_out_revokes_the_token_it_is_sent_with(self, world):
        _token, key = issue_token(user=world.applicant)
        _other, other_key = issue_token(user=world.applicant)
        assert with_key(key).post("/api/v1/auth/token/revoke/").status_code == 204
        assert not works(key)
        assert works(other_key)

    def test_signing_out_without_a_token_says_what_to_send(self, world, api):
        response = api(world.applicant).post("/api/v1/auth/token/revoke/")
        assert response.status_code == 400
        assert "Authorization: Token" in response.json()["detail"]


class TestPasswordChangeRevokesEveryToken:
    def tokens_of(self, user):
        return [issue_token(user=user, device=name)[1] for name in ("phone", "laptop")]

    def test_through_the_password_page(self, world, client):
        keys = self.tokens_of(world.applicant)
        client.force_login(world.applicant)
        response = client.post(
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "grey-Ferry-41-lantern",
                "new_password2": "grey-Ferry-41-lantern",
            },
        )
        assert response.status_code == 302
        assert not any(works(key) for key in keys)
        assert client.get(reverse("my-applications")).status_code == 200  # this session stays
        event = AuditEvent.objects.get(action="api_tokens_revoked")
        assert event.data == {"user": world.applicant.pk, "tokens": 2, "reason": "password_changed"}

    def test_through_the_admin(self, world, client, django_user_model):
        keys = self.tokens_of(world.officer)
        root = django_user_model.objects.create_superuser("root", "root@example.test", PASSWORD)
        verified_login(client, root)
        response = client.post(
            reverse("admin:auth_user_password_change", args=[world.officer.pk]),
            {
                "password1": "grey-Ferry-41-lantern",
                "password2": "grey-Ferry-41-lantern",
                "usable_password": "true",
            },
        )
        assert response.status_code == 302
        assert not any(works(key) for key in keys)

    def test_through_set_password_in_a_service(self, world):
        keys = self.tokens_of(world.applicant)
        world.applicant.set_password("grey-Ferry-41-lantern")
        world.applicant.save()
        assert not any(works(key) for key in keys)

    def test_when_the_password_is_made_unusable(self, world):
        keys = self.tokens_of(world.applicant)
        world.applicant.set_unusable_password()
        world.applicant.save(update_fields=["password"])
        assert not any(works(key) for key in keys)

    def test_not_when_other_fields_change_or_the_same_password_is_rehashed(self, world, settings):
        keys = self.tokens_of(world.applicant)
        world.applicant.first_name = "Marko"
        world.applicant.save()
        # A stronger hasher: Django re-hashes the same password at the next sign-in.
        settings.PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.ScryptPasswordHasher",
            "django.contrib.auth.hashers.MD5PasswordHasher",
        ]
        assert authenticate(username=world.applicant.username, password=PASSWORD) == world.applicant
        world.applicant.refresh_from_db()
        assert world.applicant.password.startswith("scrypt$")
        assert all(works(key) for key in keys)


class TestDevicesPage:
    def test_it_lists_my_devices_and_revokes_one(self, world, client):
        lost, lost_key = issue_token(user=world.applicant, device="Lost phone")
        _kept, kept_key = issue_token(user=world.applicant, device="Tablet")
        issue_token(user=world.applicant2, device="Arta's phone")
        client.force_login(world.applicant)
        page = client.get(reverse("device-list"))
        body = page.content.decode()
        assert page.status_code == 200
        assert "Lost phone" in body and "Tablet" in body
        assert "Arta" not in body
        assert world.applicant.username in body
        response = client.post(reverse("device-revoke", args=[lost.pk]), follow=True)
        assert "no longer works" in response.content.decode()
        assert not works(lost_key)
        assert works(kept_key)

    def test_another_person_s_device_is_not_found(self, world, client):
        others, others_key = issue_token(user=world.applicant2)
        verified_login(client, world.officer)
        assert client.post(reverse("device-revoke", args=[others.pk])).status_code == 404
        assert client.get(reverse("device-revoke", args=[others.pk])).status_code == 405
        assert works(others_key)

    def test_staff_reach_it_only_after_the_code(self, world, client):
        client.force_login(world.officer)
        response = client.get(reverse("device-list"))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/")

    def test_a_code_gives_staff_a_token_that_is_listed(self, world, client):
        TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)
        assert sign_in("officer", otp=otp_now(), device="Office laptop").status_code == 200
        verified_login(client, world.officer)
        assert "Office laptop" in client.get(reverse("device-list")).content.decode()


class TestOldTokens:
    def test_the_migration_hashes_drf_keys_and_drops_their_table(self, world):
        """Databases from before kept DRF's keys in clear in authtoken_token: each key is
        hashed into the new table (still working) and the clear keys are gone."""
        migration = importlib.import_module("applicants.migrations.0004_api_tokens")
        key = "0123456789abcdef0123456789abcdef01234567"
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id integer)"
            )
            cursor.execute(
                "INSERT INTO authtoken_token VALUES (%s, %s, %s)", [key, timezone.now(), world.applicant.pk]
            )

        class SchemaEditor:
            def __init__(self):
                self.connection = connection

            def execute(self, sql):
                with connection.cursor() as cursor:
                    cursor.execute(sql)

        migration.hash_drf_tokens(django_apps, SchemaEditor())
        assert "authtoken_token" not in connection.introspection.table_names()
        token = ApiToken.objects.get(user=world.applicant)
        assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert works(key)

    def test_erasing_a_person_removes_their_tokens(self, world):
        _token, key = issue_token(user=world.applicant)
        erase_applicant(applicant=world.person, by=world.manager, reason="asked for erasure")
        assert not ApiToken.objects.filter(user=world.applicant).exists()
        assert not works(key)
