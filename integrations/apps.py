from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """What unattended clients need from the API: idempotent writes, webhooks (docs/api.md)."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from . import webhooks

        webhooks.connect_signals()
