"""accounts/*: sign-in with a password, the staff two-factor step, password change, the
devices (API tokens) signed in as me."""

from django.contrib.auth import views as auth_views
from django.urls import path

from applicants import views as applicant_views

from . import security_views

urlpatterns = [
    path("login/", security_views.Login.as_view(), name="login"),
    path("logout/", security_views.Logout.as_view(), name="logout"),
    path("two-factor/", security_views.verify, name="otp-verify"),
    path("two-factor/setup/", security_views.setup, name="otp-setup"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("devices/", applicant_views.device_list, name="device-list"),
    path("devices/<int:pk>/revoke/", applicant_views.device_revoke, name="device-revoke"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
