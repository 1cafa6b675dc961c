"""Writing a donor report in the background (`reports.tasks`): the figures, the XLSX and
the PDF, stored privately; the row tells the page how far it got."""

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation

from audit import trail

from . import donor
from .models import DonorReport, report_key

log = logging.getLogger(__name__)


def _step(report_id):
    def step(percent, name):
        DonorReport.objects.filter(pk=report_id).update(progress=percent, step=name)

    return step


def generate_donor_report(report_id):
    """Write a queued report's XLSX and PDF into storage. Claimed by a conditional
    update, so two workers never write the same report; a failure is kept on the row."""
    claimed = DonorReport.objects.filter(pk=report_id, status=DonorReport.Status.QUEUED).update(
        status=DonorReport.Status.RUNNING, progress=5, step="start"
    )
    if not claimed:
        return False
    report = DonorReport.objects.select_related("programme", "requested_by").get(pk=report_id)
    step = _step(report.pk)
    stored = []
    try:
        # Group labels (sexes, target groups, quarters) are named in the report's language.
        with translation.override(report.language):
            content = donor.build(
                report.requested_by, report.programme, report.date_from, report.date_to, step=step
            )
        step(85, "xlsx")
        workbook = donor.xlsx(content, report.language)
        step(90, "pdf")
        document = donor.pdf(content, report.language)
        xlsx_key = default_storage.save(report_key("xlsx"), ContentFile(workbook))
        stored.append(xlsx_key)
        pdf_key = default_storage.save(report_key("pdf"), ContentFile(document))
        stored.append(pdf_key)
        with transaction.atomic():
            DonorReport.objects.filter(pk=report.pk).update(
                status=DonorReport.Status.DONE,
                progress=100,
                step="done",
                xlsx=xlsx_key,
                pdf=pdf_key,
                finished_at=timezone.now(),
            )
            trail.record(
                action="donor_report_generated",
                actor=report.requested_by,
                data={"programme": report.programme_id, "donor_report": report.pk},
            )
    except Exception as exc:
        log.exception("donor report %s failed", report.pk)
        for key in stored:
            default_storage.delete(key)
        DonorReport.objects.filter(pk=report.pk).update(
            status=DonorReport.Status.FAILED, step="failed", error=str(exc)[:500], finished_at=timezone.now()
        )
        return False
    return True
