"""Signing in against an attacker: wrong two-factor codes count with wrong passwords
until every factor succeeded, the session key changes after the code, one address is
stopped after ADDRESS_FAILURE_LIMIT failures whatever the usernames (password
spraying), the API's rate limit lives in a cache every worker shares, and sign-up never
tells whether a user name exists."""

import re
import uuid

import pyotp
import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from applicants.models import ApiToken
from demo.seed import totp_key_hex

from .conftest import otp_now
from .test_security import browser_login, run_in_production, token_request
from .test_views_applicant import signup_data

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.ADDRESS_FAILURE_LIMIT = 20
    return settings


@pytest.fixture
def officer_device(world):
    return TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)


def wrong_code(client):
    return client.post("/accounts/two-factor/", {"code": "000000"}, REMOTE_ADDR="10.0.0.1")


class TestTwoFactorCountsWithPasswords:
    def test_twelve_wrong_codes_after_correct_passwords_lock_the_account(
        self, world, client, axes_on, officer_device
    ):
        """The acceptance test: the password is right every time, the code never is.
        Signing in again must not clear the count: the fifth wrong code locks, as the
        fifth wrong password does, and the right password and code are refused after."""
        answers = []
        for _attempt in range(12):
            signed_in = browser_login(client, "officer", PASSWORD)
            if signed_in.status_code == 429:
                answers.append("locked at the password")
                continue
            answers.append(wrong_code(client).status_code)
        assert answers == [200, 200, 200, 200, 429] + ["locked at the password"] * 7
        assert browser_login(client, "officer", PASSWORD).status_code == 429
        assert SESSION_KEY not in client.session
        assert token_request("officer", PASSWORD, otp=otp_now()).status_code == 429

    def test_five_wrong_passwords_lock_as_before(self, world, client, axes_on):
        answers = [browser_login(client, "officer", "wrong").status_code for _ in range(5)]
        assert answers == [200, 200, 200, 200, 429]

    def test_wrong_passwords_and_wrong_codes_add_up(self, world, client, axes_on, officer_device):
        for _ in range(3):
            assert browser_login(client, "officer", "wrong").status_code == 200
        assert browser_login(client, "officer", PASSWORD).status_code == 302
        assert wrong_code(client).status_code == 200
        assert wrong_code(client).status_code == 429

    def test_the_count_starts_again_only_after_both_factors(self, world, client, axes_on, officer_device):
        # django-otp's own back-off after wrong codes would refuse the right one here.
        axes_on.OTP_TOTP_THROTTLE_FACTOR = 0
        for _ in range(4):
            browser_login(client, "officer", PASSWORD)
            assert wrong_code(client).status_code == 200
        browser_login(client, "officer", PASSWORD)
        right = client.post("/accounts/two-factor/", {"code": otp_now()}, REMOTE_ADDR="10.0.0.1")
        assert right.status_code == 302
        assert not AccessAttempt.objects.filter(username="officer").exists()
        client.post("/accounts/logout/")
        for _ in range(4):
            browser_login(client, "officer", PASSWORD)
            assert wrong_code(client).status_code == 200

    def test_people_without_a_second_factor_are_cleared_by_the_password(self, world, client, axes_on):
        username = world.applicant.username
        for _ in range(4):
            assert browser_login(client, username, "wrong").status_code == 200
        assert browser_login(client, username, PASSWORD).status_code == 302
        client.post("/accounts/logout/")
        for _ in range(4):
            assert browser_login(client, username, "wrong").status_code == 200

    def test_at_the_api_a_token_issued_clears_the_count(self, world, axes_on, officer_device):
        axes_on.OTP_TOTP_THROTTLE_FACTOR = 0
        for _ in range(4):
            assert token_request("officer", PASSWORD, otp="000000").status_code == 400
        assert token_request("officer", PASSWORD, otp=otp_now()).status_code == 200
        assert token_request("officer", PASSWORD, otp="000000").status_code == 400
        assert ApiToken.objects.filter(user=world.officer).count() == 1


class TestSessionKeyAfterTheCode:
    def test_the_session_key_changes_after_the_code(self, world, client, officer_device):
        browser_login(client, "officer", PASSWORD)
        before = client.session.session_key
        assert client.post("/accounts/two-factor/", {"code": otp_now()}).status_code == 302
        after = client.session.session_key
        assert after != before
        assert not SessionStore(session_key=before).exists(before)
        assert client.get("/").status_code in (200, 302)
        assert client.session[SESSION_KEY] == str(world.officer.pk)

    def test_and_after_setting_up_the_app(self, world, client):
        browser_login(client, "finance", PASSWORD)
        page = client.get("/accounts/two-factor/setup/")
        before = client.session.session_key
        code = pyotp.TOTP(page.context["secret"]).now()
        assert client.post("/accounts/two-factor/setup/", {"code": code}).status_code == 302
        assert client.session.session_key != before


class TestPasswordSpraying:
    def test_forty_usernames_from_one_address_are_stopped_at_the_limit(self, world, client, axes_on):
        answers = [
            browser_login(client, f"guess-{index}", "Summer2026!", address="10.9.9.9").status_code
            for index in range(40)
        ]
        assert answers == [200] * 19 + [429] * 21
        # The address is locked for every account, the right password included...
        assert (
            browser_login(client, world.applicant.username, PASSWORD, address="10.9.9.9").status_code == 429
        )
        assert token_request(world.applicant.username, PASSWORD, address="10.9.9.9").status_code == 429
        # ...and nowhere else.
        assert (
            browser_login(client, world.applicant.username, PASSWORD, address="10.0.0.7").status_code == 302
        )

    def test_the_count_is_read_from_the_database_every_worker_shares(self, world, axes_on):
        for index in range(20):
            AccessAttempt.objects.create(
                username=f"guess-{index}",
                ip_address="10.9.9.8",
                user_agent="spray",
                failures_since_start=1,
                get_data="",
                post_data="",
                http_accept="",
                path_info="/accounts/login/",
            )
        # A request served by a process that saw none of those failures is refused.
        assert token_request(world.applicant.username, PASSWORD, address="10.9.9.8").status_code == 429

    def test_one_person_s_typos_do_not_lock_the_address(self, world, client, axes_on):
        for _ in range(3):
            browser_login(client, "officer", "wrong", address="10.9.9.7")
        assert (
            browser_login(client, world.applicant.username, PASSWORD, address="10.9.9.7").status_code == 302
        )


class TestSharedRateLimit:
    def test_the_default_cache_is_the_database_without_redis(self):
        assert isinstance(caches["default"], DatabaseCache)

    def test_two_cache_clients_share_their_counts(self):
        """Two workers each open their own cache client; a count one adds, the other reads."""
        first, second = caches.create_connection("default"), caches.create_connection("default")
        assert first is not second
        key = f"count-{uuid.uuid4()}"
        first.add(key, 0)
        first.incr(key)
        second.incr(key)
        assert first.get(key) == second.get(key) == 2

    def test_the_token_endpoint_limit_holds_across_cache_clients(self, world, monkeypatch):
        from config.auth_api import LoginThrottle

        for index in range(30):
            # Half the requests as if served by another process with its own cache client.
            monkeypatch.setattr(LoginThrottle, "cache", caches.create_connection("default"))
            assert token_request("nobody", "wrong", address="10.5.5.5").status_code == 400, index
        monkeypatch.setattr(LoginThrottle, "cache", caches.create_connection("default"))
        assert token_request("nobody", "wrong", address="10.5.5.5").status_code == 429
        assert token_request("nobody", "wrong", address="10.5.5.6").status_code == 400

    def test_a_forged_forwarded_for_header_does_not_escape_the_limit(self, world):
        answers = [
            APIClient()
            .post(
                "/api/v1/auth/token/",
                {"username": "nobody", "password": "wrong"},
                format="json",
                REMOTE_ADDR="10.5.5.4",
                HTTP_X_FORWARDED_FOR=f"192.0.2.{index}",
            )
            .status_code
            for index in range(31)
        ]
        assert answers == [400] * 30 + [429]

    def test_with_redis_url_the_cache_is_redis(self):
        result = run_in_production(
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CACHES['default']['BACKEND'])",
            REDIS_URL="redis://127.0.0.1:6379/0",
        )
        assert result.stdout.strip().endswith("RedisCache"), result.stderr

    def test_two_redis_clients_share_their_counts(self, settings):
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip("no Redis at 127.0.0.1:6379")
        prefix = f"test-{uuid.uuid4()}"
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/0",
                "KEY_PREFIX": prefix,
            }
        }
        first, second = caches.create_connection("default"), caches.create_connection("default")
        try:
            first.add("count", 0)
            first.incr("count")
            second.incr("count")
            assert first.get("count") == second.get("count") == 2
        finally:
            first.delete("count")


class TestSignUpDoesNotConfirmUsernames:
    def answer_for(self, client, world, username, **overrides):
        response = client.post(reverse("signup"), signup_data(world, username=username, **overrides))
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return response.status_code, body

    def test_the_form_asks_for_no_user_name(self, client, world):
        body = client.get(reverse("signup")).content.decode()
        assert 'name="username"' not in body

    def test_a_staff_user_name_and_a_free_one_get_the_same_answer(self, client, world):
        refused = {"consent": ""}
        taken = self.answer_for(client, world, "officer", **refused)
        free = self.answer_for(client, world, "nobody-has-this", **refused)
        assert taken == free
        assert taken[0] == 400

    def test_a_user_name_sent_anyway_is_ignored(self, client, world):
        response = client.post(reverse("signup"), signup_data(world, username="officer"))
        assert response.status_code == 302
        user = get_user_model().objects.get(last_name="Nikolić")
        assert user.username != "officer" and user.username.startswith("jelena-")
        assert get_user_model().objects.get(username="officer") == world.officer

    def test_names_in_other_scripts_get_a_plain_user_name(self, client, world):
        client.post(reverse("signup"), signup_data(world, first_name="Ђорђе"))
        assert re.fullmatch(r"dorde-\d{4}", get_user_model().objects.get(last_name="Nikolić").username)
