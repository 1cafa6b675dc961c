from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Data-subject rights and retention"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .consents import mark_renewal_at_sign_in

        # The sign-in hook that asks people again after a change of the consent wording.
        user_logged_in.connect(mark_renewal_at_sign_in, dispatch_uid="privacy.consent_renewal")
