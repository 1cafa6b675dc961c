"""Browser sign-in for every role: password (throttled by django-axes), then, for staff,
a TOTP code (django-otp) before any page opens; first-time staff enrol an authenticator
app here. Also the answers axes gives once an account+address is locked."""

import base64
import logging
import secrets
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView, LogoutView
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from applicants import roles
from audit import trail
from core.web import client_ip, safe_next

from .lockout import sign_in_completed

log = logging.getLogger(__name__)

LOCKED_MESSAGE = gettext_lazy(
    "Too many failed sign-in attempts from this address: the account is locked here for "
    "%(minutes)s minutes. Ask your centre's administrator if you need in sooner."
)


def locked_out(request, original_response=None, credentials=None):
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    message = str(LOCKED_MESSAGE % {"minutes": minutes})
    log.warning("sign-in locked for %s from %s", (credentials or {}).get("username"), client_ip(request))
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _safe_next(request):
    """Where to go after signing in: `next` when it is a path of this site (core.web)."""
    return safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))


class Logout(LogoutView):
    """Signing out also empties the browser's storage for this site: the field pack and
    anything captured offline on a phone (docs/design.md "Offline field work"; the
    page asks first when items are still waiting to be sent)."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"storage"'
        return response


class Login(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if roles.needs_two_factor(self.request.user):
            return redirect(f"{reverse('otp-verify')}?{urlencode({'next': self.get_success_url()})}")
        return response


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Six-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self):
        code = self.cleaned_data["code"].replace(" ", "")
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the six digits your app shows."))
        return code


def _count_failure(request):
    """A wrong code counts like a wrong password: axes locks the account for this address."""
    user_login_failed.send(
        sender=__name__, credentials={"username": request.user.get_username()}, request=request
    )
    if getattr(request, "axes_locked_out", False):
        logout(request)
        return True
    return False


@never_cache
@login_required
def verify(request):
    """Second step for staff: the current TOTP code marks the session as verified."""
    user = request.user
    if not roles.needs_two_factor(user) or user.is_verified():
        return redirect(_safe_next(request))
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect(f"{reverse('otp-setup')}?{urlencode({'next': _safe_next(request)})}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = next((d for d in devices if _verify(d, form.cleaned_data["code"])), None)
        if device is not None:
            _second_factor_passed(request, device)
            return redirect(_safe_next(request))
        if _count_failure(request):
            return locked_out(request, credentials={"username": user.get_username()})
        form.add_error("code", _("That code is wrong or expired; wait for the next one and try again."))
    return render(request, "registration/otp_verify.html", {"form": form, "next": _safe_next(request)})


def _second_factor_passed(request, device):
    """The session is now fully signed in: it gets a new key (one seen before the code,
    say on a shared computer, opens nothing), and the failure count starts again."""
    otp_login(request, device)
    request.session.cycle_key()
    sign_in_completed(request, request.user)


def _verify(device, code):

    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        return device.verify_token(code)


SETUP_SESSION_KEY = "otp_setup_key"


@never_cache
@login_required
def setup(request):
    """First sign-in of a staff member without a device: show a new secret (and its QR
    code), and keep it only once a code from the app proves it was copied."""
    user = request.user
    if not roles.needs_two_factor(user):
        return redirect(_safe_next(request))
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect(f"{reverse('otp-verify')}?{urlencode({'next': _safe_next(request)})}")
    key = request.session.get(SETUP_SESSION_KEY)
    if not key:
        key = secrets.token_hex(20)
        request.session[SETUP_SESSION_KEY] = key
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    device = TOTPDevice(user=user, name="authenticator", key=key, confirmed=True)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Checked without the device model (a failed check would save an unconfirmed
        # row); the code's time step is recorded so that it cannot be used again.
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        if totp.verify(int(form.cleaned_data["code"]), tolerance=device.tolerance):
            device.last_t = totp.t()
            device.save()
            del request.session[SETUP_SESSION_KEY]
            _second_factor_passed(request, device)

            trail.record(action="two_factor_enrolled", actor=user, data={"device": device.persistent_id})
            return redirect(_safe_next(request))
        if _count_failure(request):
            return locked_out(request, credentials={"username": user.get_username()})
        form.add_error("code", _("That code does not match; check the app shows this account and try again."))
    uri = device.config_url
    qr = segno.make(uri, error="m").svg_data_uri(scale=4)
    return render(
        request,
        "registration/otp_setup.html",
        {"form": form, "secret": secret, "qr": qr, "next": _safe_next(request)},
    )
