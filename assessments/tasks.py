"""Background work of the field: visit reminders (`manage.py db_worker` runs tasks)."""

from django.tasks import task

from .reminders import send_visit_reminders


@task()
def send_reminders():
    return send_visit_reminders()
