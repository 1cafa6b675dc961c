"""What a penetration tester checks first: production settings and headers, the Content
Security Policy, sign-in lockouts, two-factor for every staff role (browser and API),
expiring tokens, idle sessions, password rules, and hostile sign-in input."""

import json
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from applicants.models import ApiToken
from applicants.tokens import issue_token
from demo.seed import DEMO_TOTP_SECRET, totp_key_hex
from grants.models import AuditEvent

from .conftest import otp_now, verified_login

pytestmark = pytest.mark.django_db
BASE_DIR = Path(django_settings.BASE_DIR)
PASSWORD = "correct horse battery"


def production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="example.org",
        DJANGO_SETTINGS_MODULE="config.settings",
        # The pages asked for read no table; an empty database keeps the test independent.
        DATABASE_URL="sqlite:///:memory:",
    )
    env.update(extra)
    return env


def run_in_production(code, **extra):
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestProductionSettings:
    def test_check_deploy_reports_nothing(self):
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=BASE_DIR,
            env=production_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues (0 silenced)." in result.stdout

    def test_a_production_answer_carries_every_security_header(self):
        result = run_in_production(
            "import django, json; django.setup()\n"
            "from django.test import Client\n"
            "client = Client(HTTP_HOST='example.org')\n"
            "plain = client.get('/accounts/login/')\n"
            "page = client.get('/accounts/login/', secure=True)\n"
            "cookies = {k: {a: page.cookies[k][a] for a in ('secure', 'httponly', 'samesite', 'path')}"
            " for k in page.cookies}\n"
            "print(json.dumps({'plain': [plain.status_code, plain.headers.get('Location')],"
            " 'status': page.status_code, 'headers': dict(page.headers), 'cookies': cookies,"
            " 'body': page.content.decode()}))\n"
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        assert answer["plain"] == [301, "https://example.org/accounts/login/"]
        assert answer["status"] == 200
        headers = answer["headers"]
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        csp = dict(
            part.strip().split(" ", 1)
            for part in headers["Content-Security-Policy"].split(";")
            if part.strip()
        )
        assert csp["default-src"] == "'self'"
        assert csp["object-src"] == "'none'"
        assert csp["frame-ancestors"] == "'none'"
        assert csp["base-uri"] == "'self'"
        assert csp["form-action"] == "'self'"
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
        assert csp["script-src"].startswith("'self'")
        assert csp["style-src"].startswith("'self'")
        csrf = answer["cookies"]["__Host-csrftoken"]
        assert csrf["secure"] is True and csrf["httponly"] is True
        assert csrf["samesite"] == "Lax" and csrf["path"] == "/"

    def test_production_sessions_use_secure_host_only_cookies(self):
        result = run_in_production(
            "import django, json; django.setup()\n"
            "from django.conf import settings as s\n"
            "print(json.dumps([s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
            " s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.DEBUG,"
            " s.DATABASES['default']['ATOMIC_REQUESTS']]))\n"
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1]) == [
            "__Host-sessionid",
            True,
            True,
            "Lax",
            True,
            True,
            False,
            True,
        ]

    def test_a_short_secret_key_stops_the_service(self):
        result = run_in_production("import django; django.setup()", SECRET_KEY="too-short")
        assert result.returncode != 0
        assert "SECRET_KEY must be at least 40 random characters" in result.stderr


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=\"\{\{ csp_nonce \}\}\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style(?![^>]*\bnonce=\"\{\{ csp_nonce \}\}\")[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle=[\"']", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+=[\"']", re.I)
JAVASCRIPT_URL = re.compile(r"href=[\"']javascript:", re.I)


def project_templates():
    roots = [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
    return sorted(p for root in roots for p in root.rglob("*.html") if ".venv" not in p.parts)


@pytest.mark.parametrize("template", project_templates(), ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_templates_need_no_inline_script_or_style(template):
    """The CSP allows scripts and styles from our own static files, or inline with the
    request's nonce ({{ csp_nonce }}); style attributes, on* handlers and javascript:
    links would be blocked in the browser, so none may be written."""
    text = template.read_text()
    for name, pattern in (
        ("inline <script> without the nonce", INLINE_SCRIPT),
        ("inline <style> without the nonce", INLINE_STYLE),
        ("style attribute", STYLE_ATTRIBUTE),
        ("on* event handler attribute", EVENT_HANDLER),
        ("javascript: link", JAVASCRIPT_URL),
    ):
        found = pattern.search(text)
        assert found is None, f"{name}: {found.group(0) if found else ''}"


def test_the_api_docs_page_runs_under_the_policy(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    html = page.content.decode()
    assert f'<style nonce="{nonce}">' in html
    assert re.search(r"<script>", html) is None
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")


# ---- lockouts -------------------------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    return settings


def opens(client, url):
    """The page (after the site's own redirects) opens, not the sign-in or code page."""
    response = client.get(url, follow=True)
    hops = [target for target, _status in response.redirect_chain]
    return response.status_code == 200 and not any(h.startswith("/accounts/") for h in hops)


def browser_login(client, username, password, address="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def token_request(username, password, otp=None, address="10.0.0.1"):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return APIClient().post("/api/v1/auth/token/", body, format="json", REMOTE_ADDR=address)


class TestLockout:
    def test_five_wrong_passwords_lock_the_account_for_that_address(self, world, client, axes_on):
        for attempt in range(4):
            response = browser_login(client, "applicant_lock", "wrong")
            assert response.status_code == 200, attempt
        world.applicant.username = "applicant_lock"
        world.applicant.save()
        fifth = browser_login(client, "applicant_lock", "wrong")
        assert fifth.status_code == 429
        right = browser_login(client, "applicant_lock", PASSWORD)
        assert right.status_code == 429
        assert "locked" in right.content.decode()
        assert SESSION_KEY not in client.session
        # Another address is not locked out: the lock is per account and address.
        elsewhere = browser_login(client, "applicant_lock", PASSWORD, address="10.0.0.2")
        assert elsewhere.status_code == 302

    def test_the_token_endpoint_counts_with_the_browser_and_obeys_the_lock(self, world, client, axes_on):
        TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)
        for _ in range(3):
            assert browser_login(client, "officer", "wrong").status_code == 200
        assert token_request("officer", "wrong").status_code == 400
        assert token_request("officer", "wrong").status_code == 429
        locked = token_request("officer", PASSWORD, otp=otp_now())
        assert locked.status_code == 429
        assert "locked" in locked.json()["detail"]
        assert int(locked.headers["Retry-After"]) > 0
        assert not ApiToken.objects.filter(user=world.officer).exists()

    def test_wrong_two_factor_codes_count_too(self, world, axes_on):
        TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)
        for _ in range(4):
            response = token_request("officer", PASSWORD, otp="000000")
            assert response.status_code == 400
            assert response.json()["otp"] == ["Wrong code."]
        assert token_request("officer", PASSWORD, otp="000000").status_code == 429
        assert token_request("officer", PASSWORD, otp=otp_now()).status_code == 429

    def test_wrong_codes_in_the_browser_lock_and_sign_out(self, world, client, axes_on):
        TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)
        assert browser_login(client, "officer", PASSWORD).status_code == 302
        for _ in range(4):
            response = client.post("/accounts/two-factor/", {"code": "000000"}, REMOTE_ADDR="10.0.0.1")
            assert response.status_code == 200
            assert "wrong or expired" in response.content.decode()
        response = client.post("/accounts/two-factor/", {"code": "000000"}, REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 429
        assert SESSION_KEY not in client.session


# ---- two-factor ------------------------------------------------------------------------


class TestTwoFactorInTheBrowser:
    def test_staff_confirm_a_code_before_any_page(self, world, client):
        TOTPDevice.objects.create(user=world.manager, name="phone", key=totp_key_hex(), confirmed=True)
        response = browser_login(client, "manager", PASSWORD)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/two-factor/?next=")
        blocked = client.get("/")
        assert blocked.status_code == 302 and blocked["Location"] == "/accounts/two-factor/?next=%2F"
        assert client.get("/admin/").status_code == 302
        api = client.get("/api/v1/applications/")
        assert api.status_code == 403
        assert "two-factor" in api.json()["detail"]
        wrong = client.post("/accounts/two-factor/", {"code": "123"})
        assert "six digits" in wrong.content.decode()
        right = client.post("/accounts/two-factor/?next=/", {"code": otp_now(), "next": "/"})
        assert right.status_code == 302 and right["Location"] == "/"
        assert opens(client, "/")
        assert client.get("/api/v1/applications/").status_code == 200

    @pytest.mark.parametrize("role", ["officer", "manager", "finance", "auditor"])
    def test_every_staff_role_is_sent_to_the_code_page(self, world, client, role):
        client.force_login(getattr(world, role))
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/two-factor/")

    def test_the_code_page_shows_no_menu_that_leads_back_to_it(self, world, client):
        """Before the code every page sends the person back to the code page: its menu and
        "Your devices" would only go round in a circle. "Log out" stays."""
        TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)
        client.force_login(world.officer)
        page = client.get("/accounts/two-factor/").content.decode()
        assert 'class="menu"' not in page
        assert "/accounts/devices/" not in page
        assert 'action="/accounts/logout/"' in page
        client.post("/accounts/two-factor/", {"code": otp_now(), "next": "/"})
        home = client.get("/", follow=True).content.decode()
        assert 'class="menu"' in home and "/accounts/devices/" in home

    def test_logout_works_before_the_code(self, world, client):
        client.force_login(world.officer)
        response = client.post("/accounts/logout/")
        assert response.status_code == 302
        assert SESSION_KEY not in client.session

    def test_applicants_need_no_second_step(self, world, client):
        response = browser_login(client, world.applicant.username, PASSWORD)
        assert response.status_code == 302 and response["Location"] == "/"
        assert opens(client, "/")

    def test_a_code_cannot_be_used_twice(self, world, client):
        TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)
        code = otp_now()
        browser_login(client, "officer", PASSWORD)
        assert client.post("/accounts/two-factor/", {"code": code}).status_code == 302
        client.post("/accounts/logout/")
        browser_login(client, "officer", PASSWORD)
        replay = client.post("/accounts/two-factor/", {"code": code})
        assert replay.status_code == 200
        assert client.get("/").status_code == 302

    def test_it_never_redirects_off_site_after_the_code(self, world, client):
        TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)
        browser_login(client, "officer", PASSWORD)
        response = client.post("/accounts/two-factor/", {"code": otp_now(), "next": "https://evil.example/"})
        assert response.status_code == 302 and response["Location"] == "/"

    def test_a_staff_member_without_a_device_sets_one_up(self, world, client):
        browser_login(client, "finance", PASSWORD)
        page = client.get("/accounts/two-factor/", follow=True)
        assert page.redirect_chain[-1][0].startswith("/accounts/two-factor/setup/")
        secret = page.context["secret"]
        assert page.context["qr"].startswith("data:image/svg+xml")
        assert client.post("/accounts/two-factor/setup/", {"code": "000000"}).status_code == 200
        assert not TOTPDevice.objects.filter(user=world.finance).exists()
        done = client.post("/accounts/two-factor/setup/", {"code": pyotp.TOTP(secret).now(), "next": "/"})
        assert done.status_code == 302 and done["Location"] == "/"
        device = TOTPDevice.objects.get(user=world.finance)
        assert device.confirmed
        assert opens(client, "/")
        event = AuditEvent.objects.get(action="two_factor_enrolled")
        assert event.actor == world.finance

    def test_a_superuser_confirms_a_code_for_the_admin(self, client, django_user_model):
        root = django_user_model.objects.create_superuser("root", "root@example.test", PASSWORD)
        client.force_login(root)
        assert client.get("/admin/").status_code == 302
        verified_login(client, root)
        assert opens(client, "/admin/")

    def test_it_can_be_switched_off_for_local_experiments(self, world, client, settings):
        settings.REQUIRE_STAFF_OTP = False
        client.force_login(world.officer)
        assert opens(client, "/")


class TestTwoFactorAtTheApi:
    def test_staff_without_a_device_get_no_token(self, world):
        response = token_request("officer", PASSWORD)
        assert response.status_code == 400
        assert "set up your authenticator app" in response.json()["detail"]

    def test_the_demo_secret_gives_staff_a_token(self, world):
        TOTPDevice.objects.create(user=world.officer, name="demo", key=totp_key_hex(), confirmed=True)
        assert pyotp.TOTP(DEMO_TOTP_SECRET).now() == otp_now()
        response = token_request("officer", PASSWORD, otp=otp_now())
        assert response.status_code == 200
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        assert client.get("/api/v1/applications/").status_code == 200

    def test_a_staff_token_expires(self, world, settings):
        settings.STAFF_TOKEN_HOURS = 12
        token, key = issue_token(user=world.officer)
        ApiToken.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(hours=13))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = client.get("/api/v1/applications/")
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]
        TOTPDevice.objects.create(user=world.officer, name="demo", key=totp_key_hex(), confirmed=True)
        fresh = token_request("officer", PASSWORD, otp=otp_now()).json()["token"]
        assert fresh != key

    def test_an_applicant_token_lasts_longer_but_expires_too(self, world, settings):
        settings.APPLICANT_TOKEN_DAYS = 30
        token, key = issue_token(user=world.applicant)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        ApiToken.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(days=29))
        assert client.get("/api/v1/applications/").status_code == 200
        ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
        response = client.get("/api/v1/applications/")
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]


class TestIdleTimeout:
    def idle(self, client, seconds):
        session = client.session
        session["last_seen"] = int(time.time()) - seconds
        session.save()

    def test_an_idle_staff_session_ends(self, world, client, settings):
        settings.STAFF_IDLE_TIMEOUT = 60
        verified_login(client, world.officer)
        assert opens(client, "/")
        self.idle(client, 30)
        assert opens(client, "/")
        self.idle(client, 61)
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert SESSION_KEY not in client.session

    def test_an_idle_staff_session_answers_401_at_the_api(self, world, client, settings):
        settings.STAFF_IDLE_TIMEOUT = 60
        verified_login(client, world.officer)
        client.get("/")
        self.idle(client, 120)
        response = client.get("/api/v1/applications/")
        assert response.status_code == 401
        assert "log in again" in response.json()["detail"]

    def test_the_last_request_is_written_at_most_once_a_minute(self, world, client, settings):
        settings.STAFF_IDLE_TIMEOUT = 30 * 60
        verified_login(client, world.officer)
        client.get("/")
        self.idle(client, 20)
        before = client.session["last_seen"]
        assert opens(client, "/")
        assert client.session["last_seen"] == before  # no session write for a recent request
        self.idle(client, 61)
        assert opens(client, "/")
        assert client.session["last_seen"] >= int(time.time()) - 5

    def test_applicants_are_not_timed_out(self, world, client, settings):
        settings.STAFF_IDLE_TIMEOUT = 60
        client.force_login(world.applicant)
        client.get("/")
        self.idle(client, 3600)
        assert opens(client, "/")


class TestPasswords:
    @pytest.mark.parametrize("password", ["short1", "password123", "1234567890123", "officer2024x"])
    def test_weak_passwords_are_refused(self, world, password):
        with pytest.raises(ValidationError):
            validate_password(password, user=world.officer)

    def test_a_strong_password_passes(self, world):
        validate_password("grey-Ferry-41-lantern", user=world.officer)

    def test_changing_a_password_applies_the_rules(self, world, client):
        verified_login(client, world.officer)
        weak = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": "password123", "new_password2": "password123"},
        )
        assert weak.status_code == 200
        assert "too common" in weak.content.decode()
        strong = client.post(
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "grey-Ferry-41-lantern",
                "new_password2": "grey-Ferry-41-lantern",
            },
        )
        assert strong.status_code == 302
        world.officer.refresh_from_db()
        assert world.officer.check_password("grey-Ferry-41-lantern")


HOSTILE = ["x" * 10000, "nul\x00byte", "\x1b[2J\x07", "<script>alert(1)</script>", "' OR '1'='1", ""]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:12]))
def test_hostile_sign_in_input_gets_an_error_never_a_500(world, client, value):
    response = client.post("/accounts/login/", {"username": value, "password": value})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert SESSION_KEY not in client.session
    TOTPDevice.objects.get_or_create(user=world.officer, name="phone", defaults={"key": totp_key_hex()})
    client.force_login(world.officer)
    code = client.post("/accounts/two-factor/", {"code": value})
    assert code.status_code == 200
    assert code.context["form"].errors["code"]
    assert "<script>alert(1)</script>" not in code.content.decode()


class TestPermissionBackend:
    """applicants.backends.ModelBackend reads a user's permissions in one query and
    answers exactly what Django's ModelBackend answers."""

    def test_same_permissions_as_djangos_backend_in_one_query(self, world, django_assert_num_queries):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.backends import ModelBackend as DjangoBackend
        from django.contrib.auth.models import Permission

        from applicants.backends import ModelBackend

        officer = world.officer
        officer.user_permissions.add(Permission.objects.get(codename="view_reports"))
        for user in (officer, world.manager, world.applicant):
            fresh = get_user_model().objects.get(pk=user.pk)
            expected = DjangoBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
            with django_assert_num_queries(1):
                assert ModelBackend().get_all_permissions(fresh) == expected
            assert "grants.view_reports" in ModelBackend().get_all_permissions(
                get_user_model().objects.get(pk=officer.pk)
            )

    def test_inactive_users_and_object_checks_have_no_model_permissions(self, world):
        from applicants.backends import ModelBackend

        world.officer.is_active = False
        assert ModelBackend().get_all_permissions(world.officer) == set()
        assert ModelBackend().get_all_permissions(world.manager, obj=world.programme) == set()
