from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """What unattended clients need from the API: idempotent writes (docs/api.md)."""

    name = "integrations"
    verbose_name = "Integrations"
