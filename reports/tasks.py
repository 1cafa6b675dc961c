"""Background work of the reports (`manage.py db_worker` runs it)."""

from django.tasks import task

from . import generation


@task()
def generate_donor_report_task(report_id):
    return generation.generate_donor_report(report_id)
