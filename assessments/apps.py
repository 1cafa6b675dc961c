from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Training, assessment and follow-up"

    def ready(self):
        # Registers the monitoring visits' hooks on the workflow's transitions
        # (grants.transitions.after): grants does not import assessments.
        from . import services  # noqa: F401
