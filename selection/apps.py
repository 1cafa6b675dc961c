from django.apps import AppConfig


class SelectionConfig(AppConfig):
    name = "selection"
    verbose_name = "Selection committees"

    def ready(self):
        # Provides the committee chair's approval check to grants.permissions and the
        # reserve offers' hooks on the transitions (services), so that grants does not
        # import selection.
        from . import permissions, services  # noqa: F401
