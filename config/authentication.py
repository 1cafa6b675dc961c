"""DRF authentication for API tokens: staff tokens stop working STAFF_TOKEN_HOURS after
they were issued (a lost laptop's token does not open criminal-record data for ever).
Kept apart from the views: DRF imports it while it is still loading."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from .security_views import is_staff_account


def token_expired(user, token):
    if not is_staff_account(user):
        return False
    return token.created < timezone.now() - timedelta(hours=settings.STAFF_TOKEN_HOURS)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(user, token):
            raise exceptions.AuthenticationFailed("This token has expired; ask auth/token/ for a new one.")
        return user, token
