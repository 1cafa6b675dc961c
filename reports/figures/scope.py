"""Whose figures a user may read, and the filters every report takes."""

import dataclasses
from datetime import date

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applicants import roles
from applicants.models import TargetGroup
from applicants.selectors import centre_scope
from core.decisions import ALLOWED, NOT_VISIBLE, Decision
from core.errors import ServiceError
from grants import selectors
from grants.models import Currency, Delivery, GrantApplication, Programme, max_length
from grants.workflow import State

SUPPORTED_STATES = frozenset(State.DELIVERED_OR_LATER)
DONOR_MAX_LENGTH = max_length(Programme, "donor")
TARGET_GROUP_FIELDS = {
    TargetGroup.RETURNEE.value: "applicant__is_returnee",
    TargetGroup.FORMER_INMATE.value: "applicant__is_former_inmate",
    TargetGroup.SOCIALLY_DISADVANTAGED.value: "applicant__is_socially_disadvantaged",
}
IMPACT_FIGURES = (
    "enterprises_supported",
    "cooperatives_supported",
    "institutions_supported",
    "families_with_non_cash_benefits",
    "people_trained",
    "investment_eur",
    "survival_rate_12m",
    "jobs_created",
)


# ---- who may see reports ------------------------------------------------------------


def can_view_reports(user):
    """Programme managers, finance officers and auditors (grants.view_reports)."""
    if not user.is_authenticated:
        return NOT_VISIBLE
    if not roles.is_staff_member(user) or not user.has_perm("grants.view_reports"):
        return Decision(False, gettext_lazy("Your role does not see programme reports."))
    return ALLOWED


def can_export_lines(user):
    """Row-level money exports name grants and suppliers: finance and managers, not
    auditors (who get aggregates only)."""
    seen = can_view_reports(user)
    if not seen:
        return seen
    if not user.has_perm("grants.view_finance"):
        return Decision(False, gettext_lazy("Your role sees aggregate reports only."))
    return ALLOWED


def reportable_applications(user):
    """Applications of the centres the user is assigned to (their ids, read once per
    request: a short list plans better than the permission subquery), and of the
    programmes or donors a scoped user is narrowed to (grants.selectors.programme_scope_q)."""
    return GrantApplication.objects.filter(
        selectors.programme_scope_q(user), centre_id__in=centre_scope(user)
    )


def reportable_programmes(user):
    """Programmes of the countries of the centres the user is assigned to."""
    return selectors.programmes_for(user)


# ---- filters ------------------------------------------------------------------------


def _invalid(field, message):
    return ServiceError(message, details={field: [message]})


def _id(params, field):
    raw = params.get(field)
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise _invalid(field, _("%(field)s: give an id (a whole number).") % {"field": field}) from None
    if not 0 < value < 2**31:
        raise _invalid(field, _("%(field)s: give an id (a whole number).") % {"field": field})
    return value


def _date(params, field):
    raw = params.get(field)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise _invalid(field, _("%(field)s: give a date as YYYY-MM-DD.") % {"field": field}) from None


@dataclasses.dataclass(frozen=True)
class ReportFilters:
    """What a report is restricted to. `country` is an id or an ISO 3166 code; the
    period [date_from, date_to] is inclusive and each figure says which date it uses."""

    programme: int | None = None
    country: int | str | None = None
    centre: int | None = None
    target_group: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    donor: str | None = None
    currency: str | None = None
    regional_programme: int | None = None

    @classmethod
    def from_params(cls, params):
        """From query parameters `programme`, `country`, `centre`, `target_group`,
        `from`, `to`, `donor`, `currency`, `regional_programme`; bad values raise
        ServiceError (400)."""
        country = params.get("country")
        if country in (None, ""):
            country = None
        elif str(country).isdigit():
            country = _id(params, "country")
        elif len(str(country)) == 2 and str(country).isalpha():
            country = str(country).upper()
        else:
            raise _invalid("country", _("country: give a country id or its two-letter code."))
        target_group = params.get("target_group") or None
        if target_group is not None and target_group not in TARGET_GROUP_FIELDS:
            raise _invalid(
                "target_group",
                _("target_group: one of %(groups)s.") % {"groups": ", ".join(TARGET_GROUP_FIELDS)},
            )
        currency = params.get("currency") or None
        if currency is not None and currency not in Currency.values:
            raise _invalid(
                "currency", _("currency: one of %(codes)s.") % {"codes": ", ".join(Currency.values)}
            )
        date_from, date_to = _date(params, "from"), _date(params, "to")
        if date_from and date_to and date_from > date_to:
            raise _invalid("from", _("The period starts after it ends."))
        donor = str(params.get("donor") or "").strip() or None
        if donor is not None and len(donor) > DONOR_MAX_LENGTH:
            # Never cut: a donor name cut short would match nothing, silently.
            raise _invalid("donor", _("donor: at most %(limit)d characters.") % {"limit": DONOR_MAX_LENGTH})
        return cls(
            programme=_id(params, "programme"),
            country=country,
            centre=_id(params, "centre"),
            target_group=target_group,
            date_from=date_from,
            date_to=date_to,
            donor=donor,
            currency=currency,
            regional_programme=_id(params, "regional_programme"),
        )

    def as_params(self):
        """The filters as they were understood, for the response and the export."""
        values = {
            "programme": self.programme,
            "country": self.country,
            "centre": self.centre,
            "target_group": self.target_group,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "donor": self.donor,
            "currency": self.currency,
            "regional_programme": self.regional_programme,
        }
        return {k: v for k, v in values.items() if v is not None}

    def country_q(self, prefix=""):
        if self.country is None:
            return Q()
        if isinstance(self.country, int):
            return Q(**{f"{prefix}country_id": self.country})
        return Q(**{f"{prefix}country__code": self.country})

    def period_q(self, field):
        """`field` within the period (a date field or a `__date` transform)."""
        q = Q()
        if self.date_from:
            q &= Q(**{f"{field}__gte": self.date_from})
        if self.date_to:
            q &= Q(**{f"{field}__lte": self.date_to})
        return q


NO_FILTERS = ReportFilters()


# ---- the programme figures ----------------------------------------------------------


def filtered_applications(user, filters):
    """The applications the user reports on, restricted by `filters` (not by period:
    each figure applies the period to its own date). `donor` and `currency` are their
    programme's: every filter a report echoes in `filters` is applied."""
    apps = reportable_applications(user)
    if filters.programme:
        apps = apps.filter(programme_id=filters.programme)
    if filters.regional_programme:
        apps = apps.filter(programme__regional_programme_id=filters.regional_programme)
    if filters.donor:
        apps = apps.filter(programme__donor=filters.donor)
    if filters.currency:
        apps = apps.filter(programme__currency=filters.currency)
    if filters.centre:
        apps = apps.filter(centre_id=filters.centre)
    if filters.target_group:
        apps = apps.filter(**{TARGET_GROUP_FIELDS[filters.target_group]: True})
    return apps.filter(filters.country_q("centre__"))


def supported_of(apps, filters):
    """Applications that reached equipment_delivered (or a later state); with a period,
    those whose last delivery (the day the last item was handed over) falls in it: a
    delivery within the period and none after it."""
    supported = apps.filter(state__in=SUPPORTED_STATES)
    if filters.date_from or filters.date_to:
        deliveries = Delivery.objects.filter(application=OuterRef("pk"))
        supported = supported.filter(Exists(deliveries.filter(filters.period_q("delivered_on"))))
        if filters.date_to:
            supported = supported.exclude(Exists(deliveries.filter(delivered_on__gt=filters.date_to)))
    return supported
