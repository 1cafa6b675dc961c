"""What an error page or error report may show: no secret from the settings, the
environment or the traceback's variables.

Django's own filter hides settings whose names contain KEY, SECRET, PASS, TOKEN and the
like. Our secrets also travel as URLs (`DATABASE_URL=postgres://grants:pw@db/grants`, a
Redis or mail server URL), and runserver copies the whole environment into
`request.META`, so a debug page showed them. This filter hides those names too, masks
the password of any URL that carries one wherever it appears, and is active in DEBUG as
well (Django's leaves POST passwords and marked variables visible there)."""

import re

from django.views.debug import SafeExceptionReporterFilter

# A URL with a user and a password: scheme://user:password@host
PASSWORD_IN_URL = re.compile(r"([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]*@", re.IGNORECASE)


class SecretsHidingFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|PRIVATE"
        "|DATABASE|URL|DSN|AWS|REDIS|EMAIL_HOST|SENTRY",
        flags=re.IGNORECASE,
    )

    def is_active(self, request):
        return True

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if type(cleansed) is str:  # not a lazy object that only looks like one
            return PASSWORD_IN_URL.sub(rf"\1:{self.cleansed_substitute}@", cleansed)
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self.cleanse_setting(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
