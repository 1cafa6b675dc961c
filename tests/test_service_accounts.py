"""Service accounts (docs/api.md "Service accounts"): a key for an integration, made by a
programme manager within their own centres, scoped like a person of its role, with no
TOTP, an expiry, revocation, rotation and allowed networks."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from applicants import roles, service_accounts
from applicants.models import ApiToken, ServiceAccount
from core.errors import NotAllowed, ServiceError
from grants.models import AuditEvent

from .conftest import verified_login
from .factories import ApplicantFactory


def key_client(key, address="127.0.0.1"):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def nis_account(world):
    return service_accounts.create_service_account(
        by=world.manager, name="Niš finance sync", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
    )


@pytest.mark.django_db
class TestScope:
    def test_a_nis_account_reads_nis_only_and_cannot_guess_prizren(self, world, nis_account):
        account, key = nis_account
        nis = world.application()
        prizren = world.application(
            applicant=ApplicantFactory(centre=world.other_centre), assigned_officer=world.officer2
        )
        client = key_client(key)

        me = client.get("/api/v1/me/").json()
        assert me["roles"] == ["field_officer"] and [c["id"] for c in me["centres"]] == [world.centre.pk]
        listed = [row["id"] for row in client.get("/api/v1/applications/").json()["results"]]
        assert listed == [nis.pk]
        assert client.get(f"/api/v1/applications/{prizren.pk}/").status_code == 404
        assert client.get(f"/api/v1/applications/{prizren.pk}/history/").status_code == 404

    def test_its_key_needs_no_totp_and_outlives_a_staff_token(self, world, nis_account, settings):
        _, key = nis_account
        ApiToken.objects.filter(user__service_account__isnull=False).update(
            created=timezone.now() - datetime.timedelta(hours=settings.STAFF_TOKEN_HOURS + 5)
        )
        assert key_client(key).get("/api/v1/me/").status_code == 200

    def test_it_cannot_sign_in_with_a_password(self, world, nis_account):
        account, _ = nis_account
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": account.user.username, "password": ""}, format="json"
        )
        assert response.status_code == 400
        assert not account.user.has_usable_password()


@pytest.mark.django_db
class TestLifecycle:
    def test_an_expired_account_is_refused(self, world, nis_account):
        account, key = nis_account
        ServiceAccount.objects.filter(pk=account.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        assert key_client(key).get("/api/v1/me/").status_code == 401

    def test_revoking_ends_the_key_at_once_and_is_audited(self, world, nis_account):
        account, key = nis_account
        service_accounts.revoke(account=account, by=world.manager)
        assert key_client(key).get("/api/v1/me/").status_code == 401
        assert AuditEvent.objects.filter(action="service_account_revoked", actor=world.manager).exists()
        with pytest.raises(ServiceError):
            service_accounts.rotate_key(account=account, by=world.manager)

    def test_a_new_key_replaces_the_old(self, world, nis_account):
        account, old = nis_account
        new = service_accounts.rotate_key(account=account, by=world.manager)
        assert key_client(old).get("/api/v1/me/").status_code == 401
        assert key_client(new).get("/api/v1/me/").status_code == 200

    def test_only_the_allowed_networks_may_use_the_key(self, world):
        _, key = service_accounts.create_service_account(
            by=world.manager,
            name="Kobo",
            role=roles.FIELD_OFFICER,
            centres=[world.centre],
            days=30,
            allowed_networks="10.0.0.0/8, 192.168.1.7",
        )
        assert key_client(key, "10.20.30.40").get("/api/v1/me/").status_code == 200
        assert key_client(key, "192.168.1.7").get("/api/v1/me/").status_code == 200
        refused = key_client(key, "203.0.113.9").get("/api/v1/me/")
        assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"

    def test_creation_is_audited_and_the_key_is_stored_hashed(self, world, nis_account):
        account, key = nis_account
        assert AuditEvent.objects.filter(action="service_account_created", actor=world.manager).exists()
        assert not ApiToken.objects.filter(key_hash=key).exists()
        assert ApiToken.objects.get(user=account.user).expires == account.expires_at


@pytest.mark.django_db
class TestWhoMayCreate:
    def create(self, by, world, **overrides):
        values = {"name": "Sync", "role": roles.FIELD_OFFICER, "centres": [world.centre], "days": 30}
        return service_accounts.create_service_account(by=by, **{**values, **overrides})

    @pytest.mark.parametrize("role", ["officer", "finance", "auditor", "applicant"])
    def test_only_programme_managers(self, world, role):
        with pytest.raises(NotAllowed):
            self.create(getattr(world, role), world)
        assert not ServiceAccount.objects.exists()

    def test_not_beyond_the_managers_own_centres(self, world):
        from .factories import CentreFactory, staff

        manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="nis_manager")
        with pytest.raises(NotAllowed):
            self.create(manager, world, centres=[world.centre, CentreFactory(country=world.kosovo)])

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"role": roles.PROGRAMME_MANAGER}, "role"),
            ({"days": 0}, "days"),
            ({"days": 400}, "days"),
            ({"centres": []}, "centres"),
            ({"name": ""}, "name"),
            ({"allowed_networks": "10.0.0.0/8, not-a-network"}, "allowed_networks"),
        ],
    )
    def test_bad_input_is_refused_with_the_field_named(self, world, overrides, field):
        with pytest.raises(ServiceError) as refused:
            self.create(world.manager, world, **overrides)
        assert field in refused.value.details
        assert not ServiceAccount.objects.exists()

    def test_the_name_is_taken_once(self, world):
        self.create(world.manager, world)
        with pytest.raises(ServiceError):
            self.create(world.manager, world, name="sync")


@pytest.mark.django_db
def test_the_command_prints_the_key_once(world, capsys):
    call_command(
        "create_service_account",
        "--by",
        "manager",
        "--name",
        "ODK Central",
        "--role",
        "field_officer",
        "--centre",
        str(world.centre.pk),
        "--days",
        "60",
    )
    out = capsys.readouterr().out
    key = out.rsplit(": ", 1)[1].strip()
    assert key_client(key).get("/api/v1/me/").json()["username"] == "svc-odk-central"


@pytest.mark.django_db
def test_a_manager_creates_one_in_the_admin_and_sees_the_key_once(world, client):
    world.manager.is_staff = True
    world.manager.save()
    verified_login(client, world.manager)
    response = client.post(
        "/admin/applicants/serviceaccount/add/",
        {
            "name": "Finance system",
            "role": "finance_officer",
            "centres": [world.centre.pk],
            "days": "90",
            "allowed_networks": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    account = ServiceAccount.objects.get(name="Finance system")
    shown = [str(m) for m in response.context["messages"] if "shown only now" in str(m)]
    assert len(shown) == 1
    key = shown[0].split(": ", 1)[1].split(" —")[0]
    assert key_client(key).get("/api/v1/me/").json()["roles"] == ["finance_officer"]
    assert account.created_by == world.manager
