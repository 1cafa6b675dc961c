"""accounts/*: sign-in with a password, the staff two-factor step, password change."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import security_views

urlpatterns = [
    path("login/", security_views.Login.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", security_views.verify, name="otp-verify"),
    path("two-factor/setup/", security_views.setup, name="otp-setup"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
