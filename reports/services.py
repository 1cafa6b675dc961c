"""Writes of the reports: indicators edited in the admin, donor reports asked for,
written in the background and downloaded. Each leaves an audit event."""

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from audit import trail
from core.errors import ServiceError, require

from . import figures as reports
from .indicators import programme_in_scope
from .models import DonorReport, Indicator
from .tasks import generate_donor_report_task

log = logging.getLogger(__name__)

INDICATOR_FACTS = [
    "programme",
    "position",
    "code",
    "name_en",
    "name_sr_latn",
    "name_sq",
    "definition",
    "baseline",
]
# A donor report covers at most this many days (five years): its quarters are drawn.
MAX_REPORT_DAYS = 5 * 366


@transaction.atomic
def save_indicator(*, indicator, by):
    before = None
    if indicator.pk is not None:
        before = trail.snapshot(Indicator.objects.get(pk=indicator.pk), INDICATOR_FACTS)
    indicator.save()
    change = trail.changes(before, trail.snapshot(indicator, INDICATOR_FACTS))
    if change:
        trail.record(
            action="indicator_changed",
            actor=by,
            data={"programme": indicator.programme_id, "indicator": indicator.pk, **change},
        )
    return indicator


@transaction.atomic
def save_indicator_targets(*, indicator, formset, by):
    """The targets of one indicator as the admin edited them, with one audit event
    holding them before and after."""

    def rows():
        return [
            {"id": t.pk, "year": t.year, "sex": t.sex, "value": str(t.value)}
            for t in indicator.targets.order_by("pk")
        ]

    before = rows()
    formset.save()
    after = rows()
    if before != after:
        trail.record(
            action="indicator_targets_changed",
            actor=by,
            data={
                "programme": indicator.programme_id,
                "indicator": indicator.pk,
                "before": before,
                "after": after,
            },
        )


@transaction.atomic
def delete_indicator(*, indicator, by):
    before = trail.snapshot(indicator, INDICATOR_FACTS)
    pk, programme = indicator.pk, indicator.programme_id
    indicator.delete()
    trail.record(
        action="indicator_deleted",
        actor=by,
        data={"programme": programme, "indicator": pk, "before": before, "after": None},
    )


# ---- the donor report ---------------------------------------------------------------


def can_read_donor_reports(user):
    """Those who read the programme figures (managers, finance, auditors): a donor
    report holds aggregates only, with small groups withheld for everyone."""
    return reports.can_view_reports(user)


@transaction.atomic
def request_donor_report(*, by, programme_id, date_from, date_to, language):
    """Queue a donor report for a programme and a period; it is written in the
    background once this transaction commits."""
    require(can_read_donor_reports(by))
    programme = programme_in_scope(by, programme_id)
    if date_from > date_to:
        raise ServiceError(_("The period starts after it ends."), details={"date_from": ["after date_to"]})
    if (date_to - date_from).days > MAX_REPORT_DAYS:
        raise ServiceError(
            _("A donor report covers at most five years."), details={"date_to": ["at most five years"]}
        )
    if language not in DonorReport.Language.values:
        raise ServiceError(_("Choose English, Serbian or Albanian."), details={"language": ["unknown"]})
    report = DonorReport.objects.create(
        programme=programme,
        date_from=date_from,
        date_to=date_to,
        language=language,
        requested_by=by,
        min_group_size=reports.MIN_GROUP_SIZE,
    )
    trail.record(
        action="donor_report_requested",
        actor=by,
        data={
            "programme": programme.pk,
            "donor_report": report.pk,
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "language": language,
        },
    )
    transaction.on_commit(lambda: generate_donor_report_task.enqueue(report.pk))
    return report


def donor_reports_for(user):
    """The donor reports of the programmes `user` reports on, newest first."""
    if not can_read_donor_reports(user):
        return DonorReport.objects.none()
    return DonorReport.objects.filter(programme__in=reports.reportable_programmes(user)).select_related(
        "programme", "requested_by"
    )


def donor_report_for(user, pk):
    require(can_read_donor_reports(user))
    return donor_reports_for(user).filter(pk=pk).first()


FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@transaction.atomic
def download_donor_report(*, report, fmt, by):
    """The stored file (an open file, its content type) of a report that is ready,
    with an audit event."""
    if fmt not in FORMATS:
        raise ServiceError(_("Choose xlsx or pdf."), details={"format": ["xlsx or pdf"]})
    if report.status != DonorReport.Status.DONE:
        raise ServiceError(_("This report is not ready yet."), code="not_ready")
    trail.record(
        action="donor_report_downloaded",
        actor=by,
        data={"programme": report.programme_id, "donor_report": report.pk, "format": fmt},
    )
    return default_storage.open(getattr(report, fmt), "rb"), FORMATS[fmt]
