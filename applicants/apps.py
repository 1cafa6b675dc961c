from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def _create_cache_table(using, **kwargs):
    """The database cache (the default when no REDIS_URL is set) needs its table; every
    `migrate` makes sure it exists, on a fresh `make run` as in the test database.
    Nothing happens when the cache lives elsewhere."""
    call_command("createcachetable", database=using, verbosity=0)


class ApplicantsConfig(AppConfig):
    name = "applicants"
    verbose_name = "People and places"

    def ready(self):
        from . import tokens

        tokens.connect_signals()
        post_migrate.connect(_create_cache_table, sender=self, dispatch_uid="applicants-cache-table")
