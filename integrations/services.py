"""Registering and removing a service account's webhook endpoints (audited)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from applicants import tokens
from audit import trail
from core.errors import NotAllowed, NotVisible, ServiceError

from .models import WebhookEndpoint
from .webhooks import EVENTS

MAX_ENDPOINTS = 5


def account_of(user):
    """The caller's service account; NotAllowed (403) for a person."""
    account = tokens.service_account_of(user)
    if account is None:
        raise NotAllowed(_("Webhooks belong to service accounts: ask a programme manager for one."))
    return account


def check_url(url):
    """https to a public host; a private, loopback or link-local address only where
    WEBHOOK_ALLOW_PRIVATE_URLS says so (tests, an internal integration)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ServiceError(_("Give the full address, https://…"), details={"url": [_("Not an address.")]})
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return
    if parts.scheme != "https":
        raise ServiceError(_("Webhooks are sent over https only."), details={"url": [_("Use https.")]})
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except (socket.gaierror, UnicodeError):
        raise ServiceError(
            _("This host name does not resolve."), details={"url": [_("Unknown host.")]}
        ) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise ServiceError(
                _("Webhooks go to public addresses only."), details={"url": [_("Not a public address.")]}
            )


@transaction.atomic
def register_endpoint(*, by, url, events):
    account = account_of(by)
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise ServiceError(
            _("Choose events among: %(names)s.") % {"names": ", ".join(EVENTS)},
            details={
                "events": [_("Unknown event: %(names)s.") % {"names": ", ".join(unknown)}]
                if unknown
                else [_("Required.")]
            },
        )
    check_url(url)
    if account.webhooks.count() >= MAX_ENDPOINTS:
        raise ServiceError(
            _("At most %(count)d endpoints per account.") % {"count": MAX_ENDPOINTS},
            details={"url": [_("Too many endpoints.")]},
        )
    endpoint = WebhookEndpoint.objects.create(account=account, url=url, events=sorted(set(events)))
    trail.record(
        action="webhook_registered", actor=by, data={"endpoint": endpoint.pk, "events": endpoint.events}
    )
    return endpoint


@transaction.atomic
def _own_endpoint(by, endpoint_id):
    """The caller's endpoint, locked; anyone else's (or a person's asking) is not there."""
    account = tokens.service_account_of(by)
    endpoint = account and account.webhooks.select_for_update().filter(pk=endpoint_id).first()
    if not endpoint:
        raise NotVisible
    return endpoint


@transaction.atomic
def remove_endpoint(*, by, endpoint_id):
    endpoint = _own_endpoint(by, endpoint_id)
    endpoint.delete()
    trail.record(action="webhook_removed", actor=by, data={"endpoint": endpoint_id})


@transaction.atomic
def enable_endpoint(*, by, endpoint_id):
    """Turn a disabled endpoint back on (after fixing the receiver); its failures reset."""
    endpoint = _own_endpoint(by, endpoint_id)
    endpoint.active, endpoint.disabled_at, endpoint.consecutive_failures = True, None, 0
    endpoint.save(update_fields=["active", "disabled_at", "consecutive_failures"])
    trail.record(action="webhook_enabled", actor=by, data={"endpoint": endpoint.pk})
    return endpoint
