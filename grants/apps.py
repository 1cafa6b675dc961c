from django.apps import AppConfig
from django.db.models import fields
from django.utils.translation import gettext_lazy as _


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = "Grants"

    def ready(self):
        # Every select's empty choice. Django's own Albanian catalogue lacks this
        # message: naming it here puts it in ours (makemessages), translated.
        fields.BLANK_CHOICE_LABEL = _("- Select an option -")
        from django.core.signals import request_finished, request_started

        from .documents.files import discard_uncommitted, forget_uncommitted

        request_started.connect(forget_uncommitted, dispatch_uid="grants.forget_uncommitted")
        request_finished.connect(discard_uncommitted, dispatch_uid="grants.discard_uncommitted")
