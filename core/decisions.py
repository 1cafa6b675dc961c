"""A permission check's answer: `can_<verb>(user, obj) -> Decision`. The same type in
every app, so that web pages, the API and the services turn it into the same answer
(`core.errors.require`)."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    # False when the object must not even be acknowledged (answer 404, not 403).
    visible: bool = True

    def __bool__(self):
        return self.allowed


ALLOWED = Decision(True)
NOT_VISIBLE = Decision(False, _("Not found."), visible=False)
