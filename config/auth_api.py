"""POST /api/v1/auth/token/: a token for username + password (+ TOTP code for accounts
with two-factor). Failures are counted by django-axes like browser logins."""

from django.contrib.auth import authenticate
from django_otp import devices_for_user
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView


class TokenRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    otp = serializers.CharField(max_length=10, required=False, allow_blank=True)


class TokenResponse(serializers.Serializer):
    token = serializers.CharField()


class LoginThrottle(AnonRateThrottle):
    rate = "30/min"


def confirmed_devices(user):
    return list(devices_for_user(user, confirmed=True))


def verify_otp(user, code):
    code = (code or "").strip()
    if not code.isdigit():
        return False
    return any(device.verify_token(code) for device in confirmed_devices(user))


class ObtainToken(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginThrottle]

    @extend_schema(request=TokenRequest, responses=TokenResponse, auth=[])
    def post(self, request):
        data = TokenRequest(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = authenticate(request=request, username=values["username"], password=values["password"])
        if user is None or not user.is_active:
            return Response({"detail": "Wrong username or password, or the account is locked."}, status=400)
        if confirmed_devices(user):
            if not values.get("otp"):
                return Response(
                    {
                        "detail": "This account uses two-factor: send the current code as otp.",
                        "otp": ["Required."],
                    },
                    status=400,
                )
            if not verify_otp(user, values["otp"]):
                return Response(
                    {"detail": "The two-factor code is wrong or expired.", "otp": ["Wrong code."]}, status=400
                )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
