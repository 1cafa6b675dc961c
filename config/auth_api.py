"""API sign-in: POST auth/token/ issues a new token for each sign-in (one per device) for
username + password, and for staff (and anyone else with a confirmed device) the current
TOTP code as `otp`. Wrong passwords and wrong codes are counted by django-axes like
browser sign-ins. GET auth/tokens/ lists the caller's own tokens (never a key), DELETE
auth/tokens/{id}/ revokes one, POST auth/token/revoke/ signs the current token out."""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from applicants import tokens
from applicants.models import ApiToken
from applicants.roles import needs_two_factor

from .lockout import sign_in_completed
from .security_views import client_ip, locked_out


class TokenRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    otp = serializers.CharField(max_length=10, required=False, allow_blank=True)
    device = serializers.CharField(
        max_length=tokens.DEVICE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="A name for this device in the owner's token list; the User-Agent by default.",
    )


class TokenResponse(serializers.Serializer):
    token = serializers.CharField(help_text="The key; shown only here, never again.")
    id = serializers.IntegerField()
    expires = serializers.DateTimeField()


class TokenListItem(serializers.Serializer):
    id = serializers.IntegerField()
    device = serializers.CharField()
    created = serializers.DateTimeField()
    last_used = serializers.DateTimeField(allow_null=True)
    expires = serializers.DateTimeField()
    current = serializers.BooleanField(help_text="The token this request was made with.")


class LoginThrottle(AnonRateThrottle):
    """Counted in the shared cache (every worker sees the same count), per client
    address as the lockouts see it: DRF's own guess trusts any X-Forwarded-For."""

    rate = "30/min"

    def get_ident(self, request):
        return client_ip(request._request)


def confirmed_devices(user):
    return list(TOTPDevice.objects.filter(user=user, confirmed=True))


def verify_otp(user, code):
    code = (code or "").strip()
    if not (code.isascii() and code.isdigit()):
        return False
    with transaction.atomic():
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(code):
                return True
    return False


def _user_agent_label(request):
    """The User-Agent names the device when the client gave no name. It is the client's
    text, not the person's words: unprintable characters dropped and cut to fit, never a
    reason to refuse a sign-in."""
    agent = "".join(ch for ch in request.headers.get("User-Agent", "") if ch.isprintable())
    return agent[: tokens.DEVICE_MAX_LENGTH]


def _refuse(detail, code="invalid", **fields):
    return Response({"detail": detail, "code": code, **fields}, status=400)


class ObtainToken(APIView):
    """POST signs in (no credential needed, throttled); DELETE signs the carried token out."""

    def _signing_in(self):
        # (The schema generator asks before it has set a request.)
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self):
        return [] if self._signing_in() else super().get_authenticators()

    def get_permissions(self):
        return [AllowAny()] if self._signing_in() else super().get_permissions()

    def get_throttles(self):
        return [LoginThrottle()] if self._signing_in() else super().get_throttles()

    @extend_schema(request=None, responses={204: None}, operation_id="auth_token_destroy")
    def delete(self, request):
        """Sign out: the token this request carries stops working (as POST auth/token/revoke/)."""
        return revoke_current(request)

    @extend_schema(request=TokenRequest, responses=TokenResponse, auth=[])
    def post(self, request):
        data = TokenRequest(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # axes reads and marks the Django request (client address, lockout flag).
        http_request = request._request
        user = authenticate(request=http_request, username=values["username"], password=values["password"])
        if getattr(http_request, "axes_locked_out", False):
            return locked_out(http_request, credentials={"username": values["username"]})
        if user is None or not user.is_active:
            return _refuse("Wrong username or password.")
        devices = confirmed_devices(user)
        if needs_two_factor(user) and not devices:
            return _refuse(
                "Staff accounts use two-factor: sign in once in the browser to set up your "
                "authenticator app, then ask for a token with its code.",
                otp=["No two-factor device yet."],
            )
        if devices:
            if not values.get("otp"):
                return _refuse(
                    "This account uses two-factor: send the current code as otp.", otp=["Required."]
                )
            if not verify_otp(user, values["otp"]):
                user_login_failed.send(
                    sender=__name__, credentials={"username": values["username"]}, request=http_request
                )
                if getattr(http_request, "axes_locked_out", False):
                    return locked_out(http_request, credentials={"username": values["username"]})
                return _refuse("The two-factor code is wrong or expired.", otp=["Wrong code."])
        sign_in_completed(http_request, user)
        device = values.get("device") or _user_agent_label(http_request)
        token, key = tokens.issue_token(user=user, device=device)
        return Response({"token": key, "id": token.pk, "expires": tokens.expires_at(token, user)})


def _describe(token, current):
    return {
        "id": token.pk,
        "device": token.device,
        "created": token.created,
        "last_used": token.last_used,
        "expires": token.works_until,
        "current": current is not None and token.pk == current.pk,
    }


def _current_token(request):
    return request.auth if isinstance(request.auth, ApiToken) else None


class TokenList(APIView):
    """The caller's own tokens that still work, newest first: one per device signed in."""

    @extend_schema(responses=TokenListItem(many=True))
    def get(self, request):
        current = _current_token(request)
        return Response([_describe(t, current) for t in tokens.tokens_for(request.user)])


class TokenDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        """Revoke one of your own tokens (another person's answers 404, as a missing one)."""
        tokens.revoke_token(token_id=pk, by=request.user)
        return Response(status=204)


class RevokeCurrentToken(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        """Sign out: the token this request carries stops working."""
        return revoke_current(request)


def revoke_current(request):
    current = _current_token(request)
    if current is None:
        return _refuse("Send this with the token to revoke (Authorization: Token <key>).", code="no_token")
    tokens.revoke_token(token_id=current.pk, by=request.user)
    return Response(status=204)
