"""People and places: countries, integration centres, staff assignments, applicants.

Sensitive facts (criminal-record referral, return details, ethnicity) live in
ApplicantSensitive, a separate table, so that no ordinary query or serializer reaches them
by accident; `applicants.sensitivity` says which class each field has and who may see it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .roles import uses_public_labels


class TargetGroup(models.TextChoices):
    RETURNEE = "returnee", _("Returnee")
    FORMER_INMATE = "former_inmate", _("Person released from prison")
    SOCIALLY_DISADVANTAGED = "socially_disadvantaged", _("Socially disadvantaged")


class Sex(models.TextChoices):
    """As the person states it; optional (blank: not recorded)."""

    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other (as the person states it)")
    NOT_SAID = "not_said", _("Prefers not to say")


class WashingtonGroupAnswer(models.IntegerChoices):
    NO_DIFFICULTY = 1, _("No difficulty")
    SOME = 2, _("Some difficulty")
    A_LOT = 3, _("A lot of difficulty")
    CANNOT = 4, _("Cannot do at all")


# The six domains of the Washington Group Short Set, each a field of ApplicantSensitive
# (applicants.facts.disability applies the cut-off).
WG_DOMAINS = (
    "wg_seeing",
    "wg_hearing",
    "wg_walking",
    "wg_remembering",
    "wg_self_care",
    "wg_communicating",
)


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SERBIAN_LATIN = "sr-latn", _("Serbian (Latin)")
    ALBANIAN = "sq", _("Albanian")


class Country(models.Model):
    code = models.CharField(max_length=2, unique=True, help_text=_("ISO 3166-1 alpha-2"))
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("countries")

    def __str__(self):
        return self.name


class IntegrationCentre(models.Model):
    class Kind(models.TextChoices):
        INTEGRATION_CENTRE = "integration_centre", _("Integration centre")
        PRISON_SERVICE = "prison_service", _("Prison social service")

    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="centres")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind, default=Kind.INTEGRATION_CENTRE)
    municipality = models.CharField(max_length=100, blank=True)
    # What roles without sensitive access (finance, the auditor) read instead of the
    # name, which may say "prison" (docs/permissions.md, "Public labels").
    public_name = models.CharField(
        _("public label"),
        max_length=200,
        blank=True,
        default="",
        db_default="",  # (rows written in bulk without it, bench/generate, get the blank)
        help_text=_(
            "Shown to finance and auditors instead of the name. Must not reveal prison or return; "
            "left blank: “Centre <number>”."
        ),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["country", "name"], name="centre_unique_name"),
        ]
        permissions = [
            ("access_centre", "Work with this centre's records"),
            ("role_applicant", "Role: applicant"),
            ("role_field_officer", "Role: field officer"),
            ("role_programme_manager", "Role: programme manager"),
            ("role_finance_officer", "Role: finance officer"),
            ("role_auditor", "Role: auditor"),
            ("role_procurement_officer", "Role: procurement officer"),
            ("role_committee_member", "Role: selection committee member"),
            ("role_mne_officer", "Role: monitoring and evaluation officer"),
            ("role_referral_partner", "Role: referral partner"),
            ("role_safeguarding_focal_point", "Role: safeguarding focal point"),
        ]

    def __str__(self):
        return self.name

    @property
    def public_label(self):
        return self.public_name or _("Centre %(number)s") % {"number": self.pk}

    def label_for(self, user):
        """The name, or the public label for a role that must not read it."""
        return self.public_label if uses_public_labels(user) else self.name


class IntegrationCentreUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK guardian table: permission lists are indexed joins, not generic scans."""

    content_object = models.ForeignKey(IntegrationCentre, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class IntegrationCentreGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(IntegrationCentre, on_delete=models.CASCADE)


class StaffAssignment(models.Model):
    """A staff member works for a centre. The single source of the centre permissions:
    `applicants.services.assign_staff` / `unassign_staff` keep guardian's rows in step."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    centre = models.ForeignKey(IntegrationCentre, on_delete=models.CASCADE, related_name="assignments")
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "centre"], name="assignment_unique"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.centre}"


class ReferralPartner(models.Model):
    """An outside organisation that refers people to a centre (a Roma association, the
    employment service, a centre for social work). Its accounts (`members`, with the
    referral partner role) read what became of its own referrals and nothing else
    (grants.referrals). Which partner referred a person may itself say something about
    them (a Roma association): only staff who read the person's record see it."""

    name = models.CharField(_("name"), max_length=200)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="referral_partners")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="referral_partners")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["country", "name"], name="referral_partner_unique_name"),
        ]

    def __str__(self):
        return self.name


class Applicant(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applicant",
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    national_id = models.CharField(_("national ID"), max_length=30, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    municipality = models.CharField(_("municipality"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    centre = models.ForeignKey(IntegrationCentre, on_delete=models.PROTECT, related_name="applicants")
    is_returnee = models.BooleanField(_("returnee"), default=False)
    is_former_inmate = models.BooleanField(_("released from prison"), default=False)
    is_socially_disadvantaged = models.BooleanField(_("socially disadvantaged"), default=False)
    sex = models.CharField(
        _("sex"),
        max_length=10,
        choices=Sex,
        blank=True,
        default="",
        db_default="",  # (rows written in bulk without it, bench/generate, get the blank)
    )
    # When the person agreed to be asked the disability questions (special category,
    # health): the answers are stored only with it (ApplicantSensitive.wg_*).
    consent_disability_at = models.DateTimeField(
        _("consent to the disability questions"), null=True, blank=True
    )
    household_size = models.PositiveSmallIntegerField(_("household size"), default=1)
    # A reference the officer records for people who live as one household at
    # different or unknown addresses (a family card number, say): one grant per
    # household and programme (grants.households).
    household_ref = models.CharField(
        _("household reference"),
        max_length=50,
        blank=True,
        default="",
        db_default="",  # (rows written in bulk without it, bench/generate, get the blank)
        db_index=True,
        help_text=_("The same reference for everyone in one household (for example a family card number)."),
    )
    dependants = models.PositiveSmallIntegerField(_("dependants"), default=0)
    language = models.CharField(
        _("language"), max_length=10, choices=Language, default=Language.SERBIAN_LATIN
    )
    # Lower-case ASCII "first last" (Cyrillic transliterated, accents dropped) for
    # duplicate detection across scripts.
    name_key = models.CharField(max_length=210, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pseudonymised_at = models.DateTimeField(null=True, blank=True)
    # The channels the person accepts news by (docs/design.md, "Notifications"): both
    # off is "none". Who recorded the choice and when are here; every change is also an
    # audit event (contact_channels_changed) with the values before and after.
    accepts_email = models.BooleanField(_("news by email"), default=True, db_default=True)
    accepts_sms = models.BooleanField(_("news by SMS"), default=False, db_default=False)
    channels_recorded_at = models.DateTimeField(null=True, blank=True)
    channels_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The outside organisation that referred the person, recorded by a field officer
    # (applicants.services.record_referral).
    referred_by = models.ForeignKey(
        ReferralPartner,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        verbose_name=_("referred by"),
    )
    # The contact person of an institution (Institution.contact): someone who speaks for
    # a prison workshop or a school, not a member of a target group. No target group, no
    # sensitive facts (applicants.sensitivity refuses them), never a person in the figures.
    is_institution_contact = models.BooleanField(
        _("contact person of an institution"), default=False, db_default=False, editable=False
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(condition=Q(household_size__gte=1), name="applicant_household_positive"),
            # A person is in a target group; an institution's contact person in none.
            models.CheckConstraint(
                condition=(
                    Q(is_institution_contact=False)
                    & (Q(is_returnee=True) | Q(is_former_inmate=True) | Q(is_socially_disadvantaged=True))
                )
                | Q(
                    is_institution_contact=True,
                    is_returnee=False,
                    is_former_inmate=False,
                    is_socially_disadvantaged=False,
                ),
                name="applicant_has_target_group",
            ),
        ]
        indexes = [models.Index(fields=["date_of_birth", "name_key"])]
        permissions = [
            ("export_personal_data", "Export personal data in bulk"),
            ("decide_duplicate", "Decide whether two registrations are the same person"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def target_groups(self):
        groups = []
        if self.is_returnee:
            groups.append(TargetGroup.RETURNEE.value)
        if self.is_former_inmate:
            groups.append(TargetGroup.FORMER_INMATE.value)
        if self.is_socially_disadvantaged:
            groups.append(TargetGroup.SOCIALLY_DISADVANTAGED.value)
        return groups

    @staticmethod
    def target_group_flags(groups):
        groups = set(groups or [])
        return {
            "is_returnee": TargetGroup.RETURNEE in groups,
            "is_former_inmate": TargetGroup.FORMER_INMATE in groups,
            "is_socially_disadvantaged": TargetGroup.SOCIALLY_DISADVANTAGED in groups,
        }


class Institution(models.Model):
    """An organisation that may be a grantee where its programme allows it
    (`Programme.allows_institutions`): a prison's workshop, a vocational school, a
    municipality's cooperative. It belongs to a centre like a person, and speaks through
    its contact person, an Applicant record flagged `is_institution_contact`, so that
    every path that reads `application.applicant` (consent, notifications, the contract,
    the handover protocol) works unchanged. It has no personal facts of its own."""

    class Kind(models.TextChoices):
        PRISON_WORKSHOP = "prison_workshop", _("Prison workshop")
        VOCATIONAL_SCHOOL = "vocational_school", _("Vocational school")
        MUNICIPAL_COOPERATIVE = "municipal_cooperative", _("Municipal cooperative")
        OTHER_PUBLIC = "other_public", _("Other public institution")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    registration_number = models.CharField(_("registration number"), max_length=50, blank=True)
    centre = models.ForeignKey(IntegrationCentre, on_delete=models.PROTECT, related_name="institutions")
    address = models.CharField(_("address"), max_length=255, blank=True)
    municipality = models.CharField(_("municipality"), max_length=100, blank=True)
    contact = models.OneToOneField(
        Applicant, on_delete=models.PROTECT, related_name="institution", verbose_name=_("contact person")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "name"], name="institution_unique_name"),
        ]

    def __str__(self):
        return self.name


class StaffProfile(models.Model):
    """A staff member's own contact for reminders: an optional mobile number (E.164)
    and whether reminders may go to it by SMS."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    sms_reminders = models.BooleanField(_("reminders by SMS"), default=False)

    def __str__(self):
        return f"staff profile of user {self.user_id}"


class ApplicantUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Applicant, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class ApplicantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Applicant, on_delete=models.CASCADE)


class ReferralInstitution(models.Model):
    """An institution that refers people to a centre (a prison, a probation or social
    service, an employment service), chosen from this list rather than written: free
    text is where offence details slip in. Managed in the admin; an entry no longer
    used is made inactive, never deleted (the people it referred keep it)."""

    class Kind(models.TextChoices):
        PRISON = "prison", _("Prison")
        PROBATION = "probation", _("Probation service")
        SOCIAL_SERVICE = "social_service", _("Social service")
        EMPLOYMENT_SERVICE = "employment_service", _("Employment service")
        ASSOCIATION = "association", _("Association")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="referral_institutions"
    )
    active = models.BooleanField(_("offered in forms"), default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApplicantSensitive(models.Model):
    """Special-category and criminal-record facts, minimised: never offences, sentences
    or free text about them. Field classes are in applicants.sensitivity."""

    applicant = models.OneToOneField(
        Applicant, primary_key=True, on_delete=models.CASCADE, related_name="sensitive"
    )
    referral = models.ForeignKey(
        ReferralInstitution,
        verbose_name=_("referring institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Only when the institution is not in the list ("other"): its name, never a story.
    referral_other = models.CharField(_("referring institution (other)"), max_length=80, blank=True)
    # A free-text referral written before the list, too long or reading like a story
    # (applicants.referral_institutions): kept whole for a programme manager to review, shown to
    # nobody else, cleared when they have chosen the institution.
    referral_review = models.TextField(_("referral text to review"), blank=True)
    release_month = models.DateField(_("release month"), null=True, blank=True)
    returned_from = models.CharField(_("country returned from"), max_length=100, blank=True)
    return_date = models.DateField(_("return date"), null=True, blank=True)
    ethnicity = models.CharField(_("ethnicity (optional self-identification)"), max_length=100, blank=True)
    # The Washington Group Short Set (health data): asked only with the person's consent
    # (Applicant.consent_disability_at).
    wg_seeing = models.PositiveSmallIntegerField(
        _("difficulty seeing, even if wearing glasses"), choices=WashingtonGroupAnswer, null=True, blank=True
    )
    wg_hearing = models.PositiveSmallIntegerField(
        _("difficulty hearing, even if using a hearing aid"),
        choices=WashingtonGroupAnswer,
        null=True,
        blank=True,
    )
    wg_walking = models.PositiveSmallIntegerField(
        _("difficulty walking or climbing steps"), choices=WashingtonGroupAnswer, null=True, blank=True
    )
    wg_remembering = models.PositiveSmallIntegerField(
        _("difficulty remembering or concentrating"), choices=WashingtonGroupAnswer, null=True, blank=True
    )
    wg_self_care = models.PositiveSmallIntegerField(
        _("difficulty with self-care, such as washing all over or dressing"),
        choices=WashingtonGroupAnswer,
        null=True,
        blank=True,
    )
    wg_communicating = models.PositiveSmallIntegerField(
        _("difficulty communicating, for example understanding or being understood"),
        choices=WashingtonGroupAnswer,
        null=True,
        blank=True,
    )

    def __str__(self):
        return f"sensitive facts of applicant {self.applicant_id}"

    @property
    def referral_institution(self):
        """The referring institution as one text, as the API's old field gave it: the
        list entry's name, or the "other" text."""
        return self.referral.name if self.referral_id else self.referral_other


class ConsentRecord(models.Model):
    """One consent of one person to one purpose under one wording (applicants.consent).
    A new wording adds a record; the older one stays, with what was read then."""

    applicant = models.ForeignKey(Applicant, on_delete=models.CASCADE, related_name="consents")
    # "general" (needed to register) or a special category (applicants.consent.PURPOSES).
    purpose = models.CharField(max_length=30, default="general", db_default="general")
    wording = models.TextField()
    version = models.CharField(max_length=20)
    language = models.CharField(max_length=10, choices=Language)
    given_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Given on paper and recorded by an officer for the person.
    on_behalf = models.BooleanField(default=False, db_default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at"]
        indexes = [models.Index(fields=["applicant", "purpose"])]

    def __str__(self):
        return f"consent {self.purpose} {self.version} of applicant {self.applicant_id}"


class DuplicateFlagQuerySet(models.QuerySet):
    def open_about(self, applicant):
        """Flags still to decide that name `applicant` (an Applicant, an id or an
        OuterRef) on either side: until a person decides, either registration may be the
        other's, so neither grant is approved (the workflow rule `no_open_duplicate`, and
        the approvals queue with the same query)."""
        return self.filter(
            Q(applicant=applicant) | Q(other=applicant), decision=DuplicateFlag.Decision.PENDING
        )


class DuplicateFlag(models.Model):
    class Decision(models.TextChoices):
        PENDING = "pending", _("To decide")
        SAME_PERSON = "same_person", _("Same person")
        DIFFERENT_PERSON = "different_person", _("Different person")

    applicant = models.ForeignKey(Applicant, on_delete=models.CASCADE, related_name="duplicate_flags")
    other = models.ForeignKey(Applicant, on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)
    decision = models.CharField(max_length=20, choices=Decision, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DuplicateFlagQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["applicant", "other"], name="duplicate_flag_unique"),
            models.CheckConstraint(condition=~Q(applicant=models.F("other")), name="duplicate_flag_not_self"),
        ]

    def __str__(self):
        return f"{self.applicant_id} ~ {self.other_id}: {self.decision}"


class ApiToken(models.Model):
    """An API sign-in on one device. Only the SHA-256 of the key is stored: the key is
    shown once, when the token is issued, so a copy of the database opens nothing. Each
    sign-in gets its own token, revocable on its own; a password change revokes them all
    (applicants.tokens)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    device = models.CharField(_("device"), max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["user", "expires"])]

    def __str__(self):
        return self.device or f"token {self.pk}"


class ServiceAccount(models.Model):
    """A machine's account for an integration (a finance system, a form server): one role
    and the centres it may reach, like a person's, an API key instead of a password and a
    TOTP code, an expiry, and revocation (applicants.service_accounts)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_account"
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    role = models.CharField(_("role"), max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    allowed_networks = models.CharField(
        _("allowed client networks"),
        max_length=500,
        blank=True,
        help_text=_("Addresses or networks the key may be used from, comma-separated (blank: any)."),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
