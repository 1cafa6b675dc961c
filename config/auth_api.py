"""POST /api/v1/auth/token/: a token for username + password, and for staff (and anyone
else with a confirmed device) the current TOTP code as `otp`. Wrong passwords and wrong
codes are counted by django-axes like browser sign-ins; staff tokens expire."""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from .authentication import token_expired
from .security_views import locked_out, needs_two_factor


class TokenRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    otp = serializers.CharField(max_length=10, required=False, allow_blank=True)


class TokenResponse(serializers.Serializer):
    token = serializers.CharField()


class LoginThrottle(AnonRateThrottle):
    rate = "30/min"


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


def _refuse(detail, **fields):
    return Response({"detail": detail, **fields}, status=400)


class ObtainToken(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginThrottle]

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
        token = Token.objects.filter(user=user).first()
        if token is not None and token_expired(user, token):
            token.delete()
            token = None
        if token is None:
            token = Token.objects.create(user=user)
        return Response({"token": token.key})
