"""People in the web interface: signing up as an applicant, an officer registering a
person (possible duplicates shown before anything is saved), the list of people, the
institutions that may be grantees, and each person's own API sign-ins (devices) with a
button to revoke each."""

import secrets

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from applicants.roles import role_required
from core.errors import ServiceError
from core.web import paginate

from . import institutions, roles, services, tokens
from .consent import consent_wording
from .duplicates import ELSEWHERE_MESSAGE, TooManyChecks, pending_flags_for
from .forms import ApplicantSearchForm, RegisterApplicantForm, RegisterInstitutionForm, SignUpForm
from .models import DuplicateFlag, IntegrationCentre, Language
from .normalise import fold
from .selectors import applicants_for, centre_ids, centres_for

REASONS = {
    "same_national_id": gettext_lazy("same national ID"),
    "same_phone": gettext_lazy("same phone number"),
    "same_name_and_birth_date": gettext_lazy("same name and date of birth"),
    "similar_name_and_birth_date": gettext_lazy("similar name and same date of birth"),
}


def _current_language():
    code = translation.get_language() or "en"
    return code if code in Language.values else "en"


def _consent_paragraphs():
    return [line for line in consent_wording().split("\n") if line.strip()]


def _new_username(first_name):
    """A user name nobody chose: the first name in plain letters and random digits. As
    people never pick one, signing up cannot be used to learn which names exist."""
    base = fold(first_name).replace(" ", "")[:20] or "applicant"
    taken = get_user_model().objects.filter
    for _attempt in range(5):
        candidate = f"{base}-{secrets.randbelow(10_000):04d}"
        if not taken(username__iexact=candidate).exists():
            return candidate
    # Five common first names in a row: digits long enough never to meet again.
    return f"{base}-{secrets.token_hex(6)}"


@transaction.atomic
def _create_account(form, language):
    """The login and the applicant record together, or neither: a refused registration
    (ServiceError) rolls the new login back."""
    data = form.cleaned_data
    user = get_user_model().objects.create_user(
        username=_new_username(data["first_name"]),
        email=data["email"],
        password=data["password1"],
        first_name=data["first_name"].strip(),
        last_name=data["last_name"].strip(),
    )
    user.groups.add(
        Group.objects.get(
            permissions__codename=f"role_{roles.APPLICANT}", permissions__content_type__app_label="applicants"
        )
    )
    services.register_applicant(
        by=user,
        user=user,
        first_name=data["first_name"],
        last_name=data["last_name"],
        date_of_birth=data["date_of_birth"],
        centre=data["centre"],
        target_groups=data["target_groups"],
        phone=data["phone"],
        email=data["email"],
        municipality=data["municipality"],
        household_size=data["household_size"],
        dependants=data["dependants"],
        language=language,
        sex=data["sex"],
        consent_given=data["consent"],
        **form.channel_choice(),
        consent_disability=data["consent_disability"],
        sensitive=form.disability_answers(),
        special_consents=form.special_consents(),
    )
    return user


def signup(request):
    """Anyone may register themselves: consent in plain words first, then the account."""
    if request.user.is_authenticated:
        return redirect("home")
    centres = IntegrationCentre.objects.select_related("country").order_by("country__name", "name")
    status = 200
    if request.method == "POST":
        form = SignUpForm(request.POST, centres=centres)
        if form.is_valid():
            try:
                user = _create_account(form, _current_language())
            except ServiceError as exc:
                form.add_service_error(exc)
                status = 400
            else:
                login(request, user, backend="applicants.backends.ModelBackend")
                messages.success(
                    request,
                    _(
                        "Welcome! Your user name is %(username)s: write it down, you sign in with it "
                        "and your password. You can now start your application."
                    )
                    % {"username": user.username},
                )
                return redirect("my-applications")
        else:
            status = 400
    else:
        form = SignUpForm(centres=centres)
    return render(
        request,
        "applicants/applicant_signup.html",
        {"form": form, "consent": _consent_paragraphs()},
        status=status,
    )


def _duplicates(user, form):
    """Possible duplicates of what was typed, before saving (counted and audited,
    services.check_possible_duplicates): people of the officer's centres, and whether a
    possible match exists elsewhere (nothing more about it)."""
    data = form.cleaned_data
    check = services.check_possible_duplicates(
        by=user,
        purpose="registration",
        first_name=data["first_name"],
        last_name=data["last_name"],
        date_of_birth=data["date_of_birth"],
        phone=data["phone"],
        national_id=data["national_id"],
        region=data["centre"].country.code,
    )
    here = [
        {"pk": other.pk, "applicant": other, "reasons": [REASONS.get(r, r) for r in reasons]}
        for other, reasons in check.here
    ]
    return here, check.elsewhere


def _confirmed(request):
    """What the officer confirmed is someone else: ids of people of their centres, and
    "elsewhere" for a match beyond them."""
    return {int(raw) if raw.isdigit() else raw for raw in request.POST.getlist("confirmed")}


@role_required(roles.FIELD_OFFICER)
def register(request):
    """Register a person with them. Possible duplicates are shown before saving; the
    officer confirms that this is someone else (the match is then flagged for review)."""
    user = request.user
    centres = centres_for(user).select_related("country").order_by("name")
    duplicates, elsewhere = [], False
    status = 200
    if request.method == "POST":
        form = RegisterApplicantForm(request.POST, centres=centres)
        if form.is_valid():
            try:
                duplicates, elsewhere = _duplicates(user, form)
            except TooManyChecks as exc:
                # (the form is invalid from here: nothing is registered)
                form.add_error(None, ValidationError(exc.message, code=exc.code))
        if form.is_valid():
            expected = {d["pk"] for d in duplicates} | ({"elsewhere"} if elsewhere else set())
            if not expected - _confirmed(request):
                data = form.cleaned_data
                try:
                    applicant = services.register_applicant(
                        by=user,
                        first_name=data["first_name"],
                        last_name=data["last_name"],
                        date_of_birth=data["date_of_birth"],
                        centre=data["centre"],
                        target_groups=data["target_groups"],
                        phone=data["phone"],
                        national_id=data["national_id"],
                        email=data["email"],
                        municipality=data["municipality"],
                        address=data["address"],
                        household_ref=data["household_ref"],
                        household_size=data["household_size"],
                        dependants=data["dependants"],
                        language=data["language"],
                        sex=data["sex"],
                        consent_given=data["consent_given"],
                        consent_disability=data["consent_disability"],
                        special_consents=form.special_consents(),
                        sensitive=form.sensitive(),
                        **form.channel_choice(),
                    )
                except ServiceError as exc:
                    form.add_service_error(exc)
                    status = 400
                else:
                    if expected:
                        messages.warning(
                            request,
                            _("Registered. The possible duplicate is flagged for a colleague to decide."),
                        )
                    else:
                        messages.success(request, _("Registered. Now fill in the application with them."))
                    return redirect(f"{reverse('application-new')}?applicant={applicant.pk}")
        else:
            status = 429 if form.has_error(NON_FIELD_ERRORS, "too_many_checks") else 400
    else:
        form = RegisterApplicantForm(centres=centres, initial={"language": "sr-latn", "channels": ["email"]})
    return render(
        request,
        "applicants/applicant_register.html",
        {
            "form": form,
            "duplicates": duplicates,
            "elsewhere": elsewhere,
            "elsewhere_message": ELSEWHERE_MESSAGE,
            "consent": _consent_paragraphs(),
        },
        status=status,
    )


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def applicant_list(request):
    user = request.user
    form = ApplicantSearchForm(request.GET or None)
    people = applicants_for(user).select_related("centre").annotate(application_count=Count("applications"))
    valid = form.is_valid()
    q = form.cleaned_data.get("q") if valid else ""
    with_contacts = valid and form.cleaned_data.get("contacts")
    if with_contacts:
        people = people.select_related("institution")
    else:
        people = people.filter(is_institution_contact=False)
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        condition = Q(name_key__contains=fold(q))
        if len(digits) >= 6:
            condition |= Q(phone__contains=digits)
        people = people.filter(condition)
    page = paginate(request, people.order_by("last_name", "first_name", "id"))
    return render(
        request,
        "applicants/applicant_list.html",
        {"form": form, "page": page, "with_contacts": with_contacts},
    )


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def duplicate_list(request):
    """Possible duplicates flagged at registration, for an officer to decide; never merged."""
    page = paginate(request, pending_flags_for(request.user))
    mine = centre_ids(request.user)
    for flag in page:
        flag.reason_labels = [REASONS.get(r, r) for r in flag.reasons]
        # A match at another centre is not described at all (no centre, no reasons):
        # a programme manager who works for both decides it.
        flag.other_visible = flag.other.centre_id in mine
    return render(
        request, "applicants/duplicate_list.html", {"page": page, "elsewhere_message": ELSEWHERE_MESSAGE}
    )


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
@require_POST
def duplicate_decide(request, pk):
    flag = pending_flags_for(request.user).filter(pk=pk).first()
    if flag is None:
        raise Http404
    try:
        services.decide_duplicate(
            flag=flag,
            decision=request.POST.get("decision", ""),
            by=request.user,
            comment=request.POST.get("comment", ""),
        )
    except ServiceError as exc:
        messages.error(request, str(exc.message))
    else:
        if flag.decision == DuplicateFlag.Decision.SAME_PERSON:
            messages.success(request, _("Recorded: the same person. Nothing was merged."))
        else:
            messages.success(request, _("Recorded: different people."))
    return redirect("duplicate-list")


@login_required
def device_list(request):
    """The devices (API tokens) signed in as me: when each was signed in, last used and
    when it stops working; a lost phone is revoked here."""
    return render(request, "applicants/apitoken_list.html", {"tokens": tokens.tokens_for(request.user)})


@login_required
@require_POST
def device_revoke(request, pk):
    tokens.revoke_token(token_id=pk, by=request.user)
    messages.success(request, _("That device is signed out: its token no longer works."))
    return redirect("device-list")


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def institution_list(request):
    """The institutions of the user's centres; officers start an application from here."""
    page = paginate(
        request,
        institutions.institutions_for(request.user)
        .annotate(application_count=Count("applications"))
        .order_by("name", "id"),
    )
    return render(request, "applicants/institution_list.html", {"page": page})


@role_required(roles.FIELD_OFFICER)
def institution_register(request):
    """Register an institution with its contact person, then choose its programme."""
    user = request.user
    centres = centres_for(user).select_related("country").order_by("name")
    status = 200
    if request.method == "POST":
        form = RegisterInstitutionForm(request.POST, centres=centres)
        if form.is_valid():
            try:
                institution = institutions.register_institution(by=user, **form.cleaned_data)
            except ServiceError as exc:
                form.add_service_error(exc)
                status = 400
            else:
                messages.success(request, _("Registered. Now choose the programme of its application."))
                return redirect(f"{reverse('application-new')}?institution={institution.pk}")
        else:
            status = 400
    else:
        form = RegisterInstitutionForm(centres=centres, initial={"contact_language": Language.SERBIAN_LATIN})
    return render(request, "applicants/institution_register.html", {"form": form}, status=status)
