"""Service accounts: how an integration signs in (docs/api.md "Service accounts").

A programme manager creates one with a role and centres within their own, an expiry
and, optionally, the networks it may be used from. Its API key is shown once and only
its SHA-256 is stored (an ApiToken of the account's own user, so every request is made,
filtered and audited as that account). It needs no password and no TOTP code: it cannot
sign in to the browser or ask auth/token/ for a token. Revoking ends it at once."""

import ipaddress
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail
from core.errors import NotAllowed, ServiceError

from . import roles, services, tokens
from .models import ApiToken, ServiceAccount
from .selectors import centre_ids

# The roles a machine may act in: it reads and records, it never approves or pays.
ROLES = (roles.FIELD_OFFICER, roles.FINANCE_OFFICER, roles.AUDITOR)
MAX_DAYS = 366
USERNAME_PREFIX = "svc-"


def parse_networks(text):
    """The allowed networks as written, checked: ServiceError naming a bad one."""
    networks = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ServiceError(
                _("“%(value)s” is not an address or a network (e.g. 10.0.0.0/24).") % {"value": part[:60]},
                details={"allowed_networks": [_("Not an address or a network.")]},
            ) from None
    return ", ".join(networks)


def allows(account, address):
    """May the account's key be used from `address`? Any address when none are set."""
    if not account.allowed_networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n) for n in account.allowed_networks.split(", "))


def _check_creator(by, role, centres):
    if not roles.has_role(by, roles.PROGRAMME_MANAGER):
        raise NotAllowed(_("Only programme managers create service accounts."))
    if role not in ROLES:
        raise ServiceError(
            _("A service account reads and records: its role is one of %(roles)s.")
            % {"roles": ", ".join(ROLES)},
            details={"role": [_("Not a role for a service account.")]},
        )
    if not centres:
        raise ServiceError(_("Name at least one centre."), details={"centres": [_("Required.")]})
    outside = [c for c in centres if c.pk not in centre_ids(by)]
    if outside:
        raise NotAllowed(_("You can give a service account only centres you work for."))


@transaction.atomic
def create_service_account(*, by, name, role, centres, days, allowed_networks=""):
    """A new account and its key, returned as (account, key): the key is never shown again."""
    name = (name or "").strip()
    if not name or len(name) > ServiceAccount._meta.get_field("name").max_length:
        raise ServiceError(
            _("Give the account a name of at most 100 characters."), details={"name": [_("Required.")]}
        )
    if not 1 <= days <= MAX_DAYS:
        raise ServiceError(
            _("An account works for 1 to %(days)d days; renew it by making a new key.") % {"days": MAX_DAYS},
            details={"days": [_("Out of range.")]},
        )
    _check_creator(by, role, centres)
    networks = parse_networks(allowed_networks)
    username = USERNAME_PREFIX + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "account")[:40]
    if (
        ServiceAccount.objects.filter(name__iexact=name).exists()
        or get_user_model().objects.filter(username=username).exists()
    ):
        raise ServiceError(_("A service account with this name exists."), details={"name": [_("Taken.")]})
    user = get_user_model().objects.create(username=username, first_name=name[:150])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.groups.add(roles.group_of(role))
    for centre in centres:
        services.assign_staff(user=user, centre=centre, by=by)
    now = timezone.now()
    account = ServiceAccount.objects.create(
        user=user,
        name=name,
        role=role,
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=days),
        allowed_networks=networks,
    )
    key = _new_key(account)
    trail.record(
        action="service_account_created",
        actor=by,
        data={"account": account.pk, "role": role, "centres": sorted(c.pk for c in centres), "days": days},
    )
    return account, key


def _new_key(account):
    ApiToken.objects.filter(user=account.user).delete()
    token, key = tokens.issue_token(user=account.user, device=f"service account {account.name}"[:100])
    ApiToken.objects.filter(pk=token.pk).update(expires=account.expires_at)
    return key


@transaction.atomic
def rotate_key(*, account, by):
    """A new key for the account; the old one stops working at once."""
    _check_live(account)
    if not roles.has_role(by, roles.PROGRAMME_MANAGER):
        raise NotAllowed(_("Only programme managers manage service accounts."))
    key = _new_key(account)
    trail.record(action="service_account_key_rotated", actor=by, data={"account": account.pk})
    return key


@transaction.atomic
def revoke(*, account, by):
    """End the account: its key stops working and it cannot be given a new one."""
    if not roles.has_role(by, roles.PROGRAMME_MANAGER):
        raise NotAllowed(_("Only programme managers manage service accounts."))
    if account.revoked_at is not None:
        return account
    account.revoked_at = timezone.now()
    account.save(update_fields=["revoked_at"])
    ApiToken.objects.filter(user=account.user).delete()
    user = account.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    trail.record(action="service_account_revoked", actor=by, data={"account": account.pk})
    return account


def _check_live(account):
    if account.revoked_at is not None:
        raise ServiceError(_("This service account is revoked."), code="revoked")
