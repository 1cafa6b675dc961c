"""Background work: the escalation sweep (`manage.py escalate_complaints` does the same)."""

from django.tasks import task

from .services import escalate_overdue


@task()
def escalate_complaints():
    return escalate_overdue()
