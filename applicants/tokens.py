"""API tokens: one per sign-in (device), listed and revoked by their owner, all revoked
when the password changes, expiring for every role (staff after STAFF_TOKEN_HOURS,
everyone else after APPLICANT_TOKEN_DAYS). Only a SHA-256 of each key is stored.

The password hook is a signal on purpose: passwords change through the password page,
the admin, `changepassword` and services calling `set_password`, and every path must
end the tokens issued under the old password."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from audit import trail
from core.errors import NotVisible

from . import roles
from .models import ApiToken, ServiceAccount

# Same length as the DRF keys clients already handle: 40 hex characters.
KEY_BYTES = 20
# last_used is a hint for the owner ("used 5 minutes ago"), not an audit: one write a
# minute per token at most, never one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
DEVICE_MAX_LENGTH = ApiToken._meta.get_field("device").max_length


def hash_key(key):
    return hashlib.sha256(key.encode()).hexdigest()


def lifetime(user):
    if roles.is_staff_account(user):
        return timedelta(hours=settings.STAFF_TOKEN_HOURS)
    return timedelta(days=settings.APPLICANT_TOKEN_DAYS)


def service_account_of(user):
    try:
        return user.service_account
    except ServiceAccount.DoesNotExist:
        return None


def expires_at(token, user):
    """The stored expiry, or sooner if the person's role or the settings now give a
    shorter life (an applicant made staff, STAFF_TOKEN_HOURS lowered). A service
    account's key lives until the account expires or is revoked."""
    account = service_account_of(user)
    if account is not None:
        return min(token.expires, account.expires_at, account.revoked_at or account.expires_at)
    return min(token.expires, token.created + lifetime(user))


def tokens_for(user):
    """The user's own tokens that still work, newest first, each with `works_until`.
    Nobody lists another's."""
    if not user.is_authenticated:
        return []
    now = timezone.now()
    found = []
    for token in ApiToken.objects.filter(user=user, expires__gt=now):
        token.works_until = expires_at(token, user)
        if token.works_until > now:
            found.append(token)
    return found


@transaction.atomic
def issue_token(*, user, device=""):
    """A new token for this sign-in; returns (token, key). The key is never stored, so
    it is shown to the caller once. The user's expired tokens are cleared on the way."""
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires__lte=now).delete()
    key = secrets.token_hex(KEY_BYTES)
    token = ApiToken.objects.create(
        user=user, key_hash=hash_key(key), device=device, created=now, expires=now + lifetime(user)
    )
    trail.record(action="api_token_issued", actor=user, data={"token": token.pk})
    return token, key


def authenticate_key(key):
    """The token for this key if it works (None otherwise); notes when it was used."""
    token = ApiToken.objects.select_related("user__service_account").filter(key_hash=hash_key(key)).first()
    if token is None or not token.user.is_active:
        return None, False
    now = timezone.now()
    if expires_at(token, token.user) <= now:
        return token, True
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token, False


@transaction.atomic
def revoke_token(*, token_id, by):
    """Revoke one of `by`'s own tokens; another person's token is as missing as a
    nonexistent one (NotVisible, a 404)."""
    token = ApiToken.objects.filter(pk=token_id, user=by).first() if by.is_authenticated else None
    if token is None:
        raise NotVisible
    token.delete()
    trail.record(action="api_token_revoked", actor=by, data={"token": token_id})


@transaction.atomic
def revoke_all_tokens(*, user, by=None, reason):
    count, _ = ApiToken.objects.filter(user=user).delete()
    if count:
        trail.record(
            action="api_tokens_revoked", actor=by, data={"user": user.pk, "tokens": count, "reason": reason}
        )
    return count


def _note_password_change(sender, instance, update_fields=None, raw=False, **kwargs):
    """Before a user is saved: will the stored password change? set_password() leaves
    the raw password in `_password` until the save; any other new hash counts too,
    except Django re-hashing the same password at sign-in (it saves only the password
    after clearing `_password`), which must not sign every device out."""
    instance._revoke_tokens = False
    if raw or instance.pk is None:
        return
    if getattr(instance, "_password", None) is not None:
        instance._revoke_tokens = True
        return
    if update_fields is not None and "password" not in update_fields:
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is None or stored == instance.password:
        return
    rehash = (
        update_fields is not None and set(update_fields) == {"password"} and instance.has_usable_password()
    )
    instance._revoke_tokens = not rehash


def _revoke_after_password_change(sender, instance, raw=False, **kwargs):
    if not raw and getattr(instance, "_revoke_tokens", False):
        instance._revoke_tokens = False
        revoke_all_tokens(user=instance, reason="password_changed")


def connect_signals():
    user_model = get_user_model()
    pre_save.connect(_note_password_change, sender=user_model, dispatch_uid="tokens-note-password")
    post_save.connect(_revoke_after_password_change, sender=user_model, dispatch_uid="tokens-revoke")
