from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Training, assessment and follow-up"

    def ready(self):
        # Provides what the workflow asks of training, assessment and visits: the
        # training rule's check (selectors) and the visits' hooks on the transitions
        # (services), so that grants does not import assessments.
        from . import selectors, services  # noqa: F401
