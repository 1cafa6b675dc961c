from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """What unattended clients need from the API: idempotent writes, webhooks (docs/api.md)."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from applicants.signals import person_erased

        from . import erasure, webhooks

        webhooks.connect_signals()
        person_erased.connect(erasure.erase_copies, dispatch_uid="integrations-erase-copies")
