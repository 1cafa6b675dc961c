"""DRF authentication for API tokens (`Authorization: Token <key>`): the key is looked up
by its SHA-256, and works until it is revoked or expires (staff after STAFF_TOKEN_HOURS,
everyone else after APPLICANT_TOKEN_DAYS). Kept apart from the views: DRF imports it
while it is still loading."""

from rest_framework import authentication, exceptions

from applicants import service_accounts, tokens
from core.web import client_ip


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None:
            account = tokens.service_account_of(found[0])
            if account is not None and not service_accounts.allows(account, client_ip(request._request)):
                raise exceptions.AuthenticationFailed("This key may not be used from this address.")
        return found

    def authenticate_credentials(self, key):
        token, expired = tokens.authenticate_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if expired:
            raise exceptions.AuthenticationFailed("This token has expired; ask auth/token/ for a new one.")
        return token.user, token
