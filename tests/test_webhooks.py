"""Webhooks (docs/api.md "Webhooks"): a service account is told of the events it may see,
after commit, signed, retried with a log, disabled after repeated failures; a Niš-scoped
account never receives Prizren's events."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from applicants import roles, service_accounts
from grants import services as grant_services
from grants.models import AuditEvent
from integrations import webhooks
from integrations.models import WebhookDelivery, WebhookEndpoint

from .factories import ApplicantFactory


class Receiver:
    """A webhook receiver on loopback: keeps what it is sent, answers `status`."""

    def __init__(self):
        self.received, self.status = [], 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def payloads(self):
        return [json.loads(body) for _headers, body in self.received]


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def nis(world, settings, receiver):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    account, key = service_accounts.create_service_account(
        by=world.manager, name="Niš sync", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["application.transitioned"]}, format="json"
    )
    assert response.status_code == 201, response.content
    return client, response.json()


def submit(application, by, capture):
    with capture(execute=True):
        grant_services.take_transition(application=application, name="submit", by=by)


@pytest.mark.django_db
class TestWhoIsTold:
    def test_a_nis_transition_reaches_the_nis_account_signed_and_without_personal_data(
        self, world, nis, receiver, django_capture_on_commit_callbacks
    ):
        _client, endpoint = nis
        application = world.application()

        submit(application, world.applicant, django_capture_on_commit_callbacks)

        assert len(receiver.received) == 1
        headers, body = receiver.received[0]
        expected = (
            "sha256="
            + hmac.new(
                endpoint["secret"].encode(),
                f"{headers['Webhook-Timestamp']}.".encode() + body,
                hashlib.sha256,
            ).hexdigest()
        )
        assert hmac.compare_digest(headers["Webhook-Signature"], expected)
        payload = json.loads(body)
        assert payload["event"] == "application.transitioned"
        assert (payload["application"], payload["from_state"], payload["to_state"]) == (
            application.pk,
            "draft",
            "submitted",
        )
        assert headers["Webhook-Id"] == payload["id"]
        text = body.decode()
        assert world.person.first_name not in text and world.person.last_name not in text
        assert WebhookDelivery.objects.get().status == "sent"

    def test_prizren_events_never_reach_a_nis_account(
        self, world, nis, receiver, django_capture_on_commit_callbacks
    ):
        prizren = world.application(
            applicant=ApplicantFactory(centre=world.other_centre, with_user=True),
            assigned_officer=world.officer2,
        )
        submit(prizren, prizren.applicant.user, django_capture_on_commit_callbacks)
        assert receiver.received == []
        assert not WebhookDelivery.objects.exists()

    def test_events_it_did_not_ask_for_are_not_sent(self, world, nis, receiver):
        event = AuditEvent.objects.create(
            at=timezone.now(), action="visit_recorded", application=world.application(), data={}
        )
        assert webhooks.queue_deliveries(event.pk) == []

    def test_a_revoked_account_is_told_nothing(
        self, world, nis, receiver, django_capture_on_commit_callbacks
    ):
        service_accounts.revoke(account=WebhookEndpoint.objects.get().account, by=world.manager)
        submit(world.application(), world.applicant, django_capture_on_commit_callbacks)
        assert receiver.received == []

    def test_nothing_is_sent_for_a_write_that_rolled_back(
        self, world, nis, receiver, django_capture_on_commit_callbacks
    ):
        application = world.application()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(RuntimeError), transaction.atomic():
                grant_services.take_transition(application=application, name="submit", by=world.applicant)
                raise RuntimeError("the request failed after the transition")
        assert callbacks == []
        assert receiver.received == [] and not WebhookDelivery.objects.exists()


@pytest.mark.django_db
class TestRetries:
    def test_a_failure_is_retried_later_and_sent_once(
        self, world, nis, receiver, django_capture_on_commit_callbacks
    ):
        receiver.status = 503
        submit(world.application(), world.applicant, django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
        assert webhooks.send_due() == 0  # not due yet

        receiver.status = 200
        assert webhooks.send_due(now=timezone.now() + timedelta(minutes=5)) == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("sent", 2)
        assert webhooks.deliver(delivery.pk) is False  # never twice
        assert len(receiver.received) == 2
        assert WebhookEndpoint.objects.get().consecutive_failures == 0

    def test_an_endpoint_failing_again_and_again_is_disabled_once(
        self, world, nis, receiver, settings, django_capture_on_commit_callbacks
    ):
        settings.WEBHOOK_DISABLE_AFTER = 2
        receiver.status = 500
        submit(world.application(), world.applicant, django_capture_on_commit_callbacks)
        webhooks.send_due(now=timezone.now() + timedelta(minutes=5))
        endpoint = WebhookEndpoint.objects.get()
        assert (endpoint.active, endpoint.consecutive_failures) == (False, 2)
        assert AuditEvent.objects.filter(action="webhook_disabled").count() == 1
        assert (
            webhooks.send_due(now=timezone.now() + timedelta(hours=1)) == 0
        )  # a disabled endpoint gets nothing

        client, registered = nis
        assert client.post(f"/api/v1/webhooks/{registered['id']}/enable/").json()["active"] is True

    def test_the_delivery_log_is_the_accounts_own(
        self, world, nis, receiver, django_capture_on_commit_callbacks
    ):
        client, registered = nis
        submit(world.application(), world.applicant, django_capture_on_commit_callbacks)
        rows = client.get(f"/api/v1/webhooks/{registered['id']}/deliveries/").json()["results"]
        assert [(r["event"], r["status"], r["last_status_code"]) for r in rows] == [
            ("application.transitioned", "sent", 204)
        ]
        other = APIClient()
        other.force_authenticate(world.manager)
        assert other.get(f"/api/v1/webhooks/{registered['id']}/deliveries/").status_code == 404


@pytest.mark.django_db
class TestRegistering:
    def test_people_do_not_register_webhooks(self, world, api, settings):
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
        response = api(world.manager).post(
            "/api/v1/webhooks/", {"url": "https://example.org/h", "events": ["visit.recorded"]}, format="json"
        )
        assert response.status_code == 403
        assert api(world.officer).get("/api/v1/webhooks/").json()["results"] == []

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"url": "https://example.org/h", "events": ["everything"]}, "events"),
            ({"url": "https://example.org/h", "events": []}, "events"),
            ({"url": "http://127.0.0.1:9/h", "events": ["visit.recorded"]}, "url"),
            ({"url": "https://10.0.0.5/h", "events": ["visit.recorded"]}, "url"),
            ({"url": "ftp://example.org/h", "events": ["visit.recorded"]}, "url"),
        ],
    )
    def test_bad_endpoints_are_refused(self, world, settings, body, field):
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
        _, key = service_accounts.create_service_account(
            by=world.manager, name="Sync", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        response = client.post("/api/v1/webhooks/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not WebhookEndpoint.objects.exists()

    def test_registering_and_removing_are_audited(self, world, nis):
        client, registered = nis
        assert client.delete(f"/api/v1/webhooks/{registered['id']}/").status_code == 204
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"webhook_registered", "webhook_removed"} <= actions
        assert "secret" not in client.get("/api/v1/webhooks/").json()
