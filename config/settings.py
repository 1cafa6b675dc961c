"""One settings file, read from the environment.

Development defaults are safe to run on a laptop (SQLite, local files, DEBUG only when
asked for); production safety is switched on by the environment (DEBUG=0 with a real
SECRET_KEY), never by a second copy of these settings. docs/deploy.md lists every variable.
"""

import os
import re
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

# Without a SECRET_KEY this is a development machine: DEBUG on, a fixed dev key.
# A deployment sets SECRET_KEY, and DEBUG is then off unless asked for.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEVELOPMENT = not SECRET_KEY
DEBUG = env_bool("DEBUG", DEVELOPMENT and not TESTING)
if DEVELOPMENT:
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-4f8a2c9e1b7d"  # noqa: S105
elif len(SECRET_KEY) < 40:
    raise ImproperlyConfigured("SECRET_KEY must be at least 40 random characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEVELOPMENT or TESTING) else "")
# DEBUG's error pages show code, settings and the environment: only `make run`'s server on
# this computer may have them (no SECRET_KEY, loopback names only; and
# config.middleware.LoopbackOnlyWhenDebug answers nobody else, whatever address it is bound to).
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
if DEBUG and not (DEVELOPMENT and set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS):
    raise ImproperlyConfigured(
        "DEBUG=1 is only for the development server on this computer: it needs SECRET_KEY unset "
        "and ALLOWED_HOSTS naming only 127.0.0.1, localhost or ::1. Its error pages show the code "
        "and the environment."
    )
# Error pages and reports hide database URLs, keys, passwords and any URL with a password
# in it, from the settings, the environment (runserver copies it into request.META) and
# the traceback's variables, in DEBUG too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.debug.SecretsHidingFilter"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks_db",
    "applicants",
    "grants",
    "assessments",
    "selection",
    "integrations",
    "complaints",
    "privacy",
    "casework",
    "field",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "config.middleware.LoopbackOnlyWhenDebug",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files stay cacheable, everything else is no-store.
    "config.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.LegacyBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.StaffSessionTimeoutMiddleware",
    "config.middleware.StaffTwoFactorMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "privacy.consents.ConsentRenewalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last: the stored answer and the write it answers commit in one transaction.
    "integrations.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "applicants.context_processors.user_roles",
            ],
            # The error summary of every page (base.html), from the lowest layer.
            "libraries": {"error_summary": "core.error_summary"},
        },
    },
]

# Database: DATABASE_URL, SQLite file by default.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once, and take the write lock at BEGIN so
    # two transactions never deadlock upgrading a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
# A request's writes commit together or not at all: if the database goes away halfway,
# nothing of that request is left behind (and the 503 answer can say so).
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Behind a pooler in transaction mode (pgbouncer, docs/deploy.md) a server connection
# serves another client after each transaction: no cursor may outlive one (Django's
# server-side cursors for .iterator()) and no statement may be prepared on it (psycopg 3
# prepares a query it has run five times on a connection).
DATABASE_POOLER = env_str("DATABASE_POOLER", "").strip().lower()
if DATABASE_POOLER not in ("", "session", "transaction"):
    raise ImproperlyConfigured(
        f"DATABASE_POOLER must be empty, 'session' or 'transaction', not {DATABASE_POOLER!r}."
    )
if DATABASE_POOLER == "transaction" and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("TEST_DATABASE_NAME") or None
if not DATABASES["default"]["TEST"]["NAME"]:
    del DATABASES["default"]["TEST"]["NAME"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "applicants.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-guardian: no anonymous user row; object permissions come from our own
# direct foreign-key tables (applicants/grants models), global permissions are never
# read as "every object" (selectors decide that deliberately).
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# django-axes: lock an account+address after repeated failures (wrong passwords and
# wrong two-factor codes alike), and a whole address after ADDRESS_FAILURE_LIMIT failures
# across usernames (password spraying). The counts live in the database, shared by every
# worker. The count is cleared only once every factor succeeded (config.lockout), never
# after the password alone: AXES_RESET_ON_SUCCESS would let wrong codes go on for ever.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
ADDRESS_FAILURE_LIMIT = env_int("ADDRESS_FAILURE_LIMIT", 20)
# Duplicate checks per officer and window (applicants.duplicates): enough for a day of
# registrations, too few to run a list of phone numbers through it.
DUPLICATE_CHECKS_PER_WINDOW = env_int("DUPLICATE_CHECKS_PER_WINDOW", 60)
DUPLICATE_CHECK_WINDOW = 3600
# Complaints (docs/complaints.md): days to acknowledge and to resolve a case before it is
# overdue and escalated; the public form's limits per client address and window, and the
# least time (seconds) between showing the form and sending it.
COMPLAINT_ACKNOWLEDGE_DAYS = env_int("COMPLAINT_ACKNOWLEDGE_DAYS", 5)
COMPLAINT_RESOLVE_DAYS = env_int("COMPLAINT_RESOLVE_DAYS", 30)
COMPLAINT_FORM_LIMIT = env_int("COMPLAINT_FORM_LIMIT", 5)
COMPLAINT_FOLLOW_UP_LIMIT = env_int("COMPLAINT_FOLLOW_UP_LIMIT", 20)
COMPLAINT_LIMIT_WINDOW = env_int("COMPLAINT_LIMIT_WINDOW", 3600)
COMPLAINT_FORM_MIN_SECONDS = env_int("COMPLAINT_FORM_MIN_SECONDS", 5)
# A monitoring visit may be recorded at most this many days before it is due; only
# visits inside that window count in the survival and jobs figures (docs/reports.md).
VISIT_EARLY_MARGIN_DAYS = env_int("VISIT_EARLY_MARGIN_DAYS", 30)
# How long a field officer's offline pack stays usable on the phone, and how old an item
# captured offline may be when it is synced (docs/design.md "Offline field work").
FIELD_PACK_DAYS = env_int("FIELD_PACK_DAYS", 14)
if not 1 <= FIELD_PACK_DAYS <= 60:
    raise ImproperlyConfigured("FIELD_PACK_DAYS must be from 1 to 60.")
# Counts of people from 1 to one less are shown as "< 5" to readers outside the
# programme team, with the cells that would give them away (docs/reports.md).
SMALL_NUMBER_THRESHOLD = env_int("SMALL_NUMBER_THRESHOLD", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = False
AXES_HANDLER = "config.lockout.LockoutHandler"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# Behind a proxy every request comes from the proxy's address: the client's is the
# TRUSTED_PROXY_COUNT-th entry from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_PROXY", False) else 0)
AXES_CLIENT_IP_CALLABLE = "config.security_views.client_ip"
AXES_LOCKOUT_CALLABLE = "config.security_views.locked_out"

# Staff sessions end after this many idle seconds.
STAFF_IDLE_TIMEOUT = env_int("STAFF_IDLE_TIMEOUT", 30 * 60)
# Two-factor for staff (TOTP); can be switched off only for local experiments.
REQUIRE_STAFF_OTP = env_bool("REQUIRE_STAFF_OTP", True)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Micro-enterprise grants")
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "otp", "code"]
# API tokens of staff accounts stop working this many hours after they were issued,
# everyone else's (applicants) after this many days.
STAFF_TOKEN_HOURS = env_int("STAFF_TOKEN_HOURS", 12)
APPLICANT_TOKEN_DAYS = env_int("APPLICANT_TOKEN_DAYS", 30)

# The cache holds the API's rate-limit counts, so every worker process must share it:
# Redis when REDIS_URL is set, else a table in the database (created by `migrate`).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}
    }

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("sr-latn", _("Serbian (Latin)")),
    ("sq", _("Albanian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates day first in every language (config/formats: English and Albanian; Django's
# Serbian already is).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Belgrade")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = None

# Documents: local files by default, S3 (or any S3-compatible server) when
# STORAGE_BACKEND=s3. Objects are private and reached only through the download view.
# docs/storage.md describes every variable, for AWS S3 and for MinIO and the like.
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "eu-central-1")
AWS_S3_ADDRESSING_STYLE = env_str("AWS_S3_ADDRESSING_STYLE", "auto")
AWS_S3_SSE = env_str("AWS_S3_SSE", "AES256")
PRESIGNED_URL_SECONDS = env_int("PRESIGNED_URL_SECONDS", 300)
if not 1 <= PRESIGNED_URL_SECONDS <= 300:
    raise ImproperlyConfigured("PRESIGNED_URL_SECONDS must be between 1 and 300 (five minutes at most).")


def s3_storage_options(
    *,
    bucket_name,
    endpoint_url=None,
    region_name="eu-central-1",
    addressing_style="auto",
    sse="AES256",
    access_key=None,
    secret_key=None,
    proxy=None,
    max_attempts=3,
    connect_timeout=5,
    read_timeout=30,
):
    """OPTIONS for django-storages' S3Storage; the tests build theirs with it too."""
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    options = {
        "bucket_name": bucket_name,
        "endpoint_url": endpoint_url,
        "region_name": region_name,
        # No ACL header at all: the bucket stays private (and buckets with ACLs
        # disabled refuse any ACL header).
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": PRESIGNED_URL_SECONDS,
        "file_overwrite": False,
        # A custom domain would make url() return unsigned links.
        "custom_domain": None,
        # django-storages ignores signature_version, addressing_style and proxies once
        # client_config is given, so they live in the botocore Config itself (without
        # it presigned URLs come out SigV2). The checksum settings keep S3-compatible
        # servers (MinIO, Ceph, ...) working with new boto3.
        "client_config": Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            proxies={"http": proxy, "https": proxy} if proxy else None,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        ),
        # One PUT streamed from the spooled upload: no part buffers in memory and no
        # half-finished multipart upload left behind when the connection drops.
        "transfer_config": TransferConfig(multipart_threshold=5 * 1024**3 - 1, use_threads=False),
        "object_parameters": {"ServerSideEncryption": sse} if sse else {},
    }
    if access_key:
        options["access_key"] = access_key
        options["secret_key"] = secret_key or ""
    return options


if STORAGE_BACKEND == "s3":
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
    _documents_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": s3_storage_options(
            bucket_name=AWS_STORAGE_BUCKET_NAME,
            endpoint_url=AWS_S3_ENDPOINT_URL,
            region_name=AWS_S3_REGION_NAME,
            addressing_style=AWS_S3_ADDRESSING_STYLE,
            sse=AWS_S3_SSE,
            # Without keys boto3 looks further: AWS_SESSION_TOKEN, ~/.aws, instance roles.
            access_key=env_str("AWS_ACCESS_KEY_ID"),
            secret_key=env_str("AWS_SECRET_ACCESS_KEY"),
            proxy=env_str("AWS_S3_PROXY") or None,
            max_attempts=env_int("AWS_S3_MAX_ATTEMPTS", 3),
            connect_timeout=env_int("AWS_S3_CONNECT_TIMEOUT", 5),
            read_timeout=env_int("AWS_S3_READ_TIMEOUT", 30),
        ),
    }
elif STORAGE_BACKEND == "local":
    _documents_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    }
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', not {STORAGE_BACKEND!r}")

STORAGES = {
    "default": _documents_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not (DEVELOPMENT or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}


def _bytes_per_kind(name):
    """Size limits for some document kinds: "photo=20971520,business_plan=5242880"."""
    limits = {}
    for item in env_list(name):
        kind, _sep, value = item.partition("=")
        if not value.strip().isdigit():
            raise ImproperlyConfigured(f"{name} takes kind=bytes pairs separated by commas, not {item!r}")
        limits[kind.strip()] = int(value)
    return limits


DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
DOCUMENT_MAX_BYTES_PER_KIND = _bytes_per_kind("DOCUMENT_MAX_BYTES_PER_KIND")
# Uploads beyond this are spooled to a temporary file (FILE_UPLOAD_TEMP_DIR), so memory
# stays flat whatever the size; the file is gone when the request ends.
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR") or None

# Background work: Django's tasks framework with a database-backed worker
# (`manage.py db_worker`); TASKS_BACKEND may point elsewhere in production.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

_mail_backend = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEVELOPMENT
    else "django.core.mail.backends.smtp.EmailBackend",
)
_mail_options = {}
if _mail_backend.endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_str("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": env_int("EMAIL_TIMEOUT", 10),
    }
MAILERS = {"default": {"BACKEND": _mail_backend, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "grants@localhost")

# SMS (docs/deploy.md, "SMS"): Infobip's HTTP API. Without SMS_BASE_URL and SMS_API_KEY
# no SMS is queued (people who chose SMS get email where they gave an address).
SMS_BASE_URL = env_str("SMS_BASE_URL").rstrip("/")
SMS_API_KEY = env_str("SMS_API_KEY")
SMS_SENDER = env_str("SMS_SENDER", "Grants")
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)
SMS_MAX_SEGMENTS = env_int("SMS_MAX_SEGMENTS", 2)
if not 1 <= SMS_MAX_SEGMENTS <= 10:
    raise ImproperlyConfigured("SMS_MAX_SEGMENTS must be from 1 to 10.")
# The shared secret of the signed callbacks (delivery reports, replies such as STOP) and
# the public address the provider reaches them at.
SMS_CALLBACK_SECRET = env_str("SMS_CALLBACK_SECRET")
SMS_CALLBACK_BASE_URL = env_str("SMS_CALLBACK_BASE_URL").rstrip("/")
SMS_CALLBACK_MAX_AGE = env_int("SMS_CALLBACK_MAX_AGE", 300)
if SMS_BASE_URL and SMS_API_KEY and len(SMS_CALLBACK_SECRET) < 32:
    raise ImproperlyConfigured("SMS_CALLBACK_SECRET must be at least 32 random characters when SMS is on.")

# Personal data of applicants whose grant ended is pseudonymised after this many days.
RETENTION_DAYS = env_int("RETENTION_DAYS", 365 * 10)
# How long an API write's Idempotency-Key is remembered (docs/api.md); at least a day.
IDEMPOTENCY_KEY_HOURS = max(24, env_int("IDEMPOTENCY_KEY_HOURS", 48))
# A webhook endpoint failing this many deliveries in a row is disabled (docs/api.md).
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 20)
# Webhooks to private or loopback addresses (and over plain http): off in production.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)
# Form intake (docs/api.md "Form intake"): the only origins (scheme://host[:port]) a
# submission's photos are fetched from, e.g. "https://kf.kobotoolbox.org"; empty: none,
# and a submission with photos is kept for a person. The token (a KoboToolbox API token
# of an account that may read the form's submissions) goes only to those origins.
INTAKE_ATTACHMENT_ORIGINS = env_list("INTAKE_ATTACHMENT_ORIGINS")
INTAKE_ATTACHMENT_TOKEN = env_str("INTAKE_ATTACHMENT_TOKEN")
# ODK Central's submissions name a photo by its file name only: it is fetched from this
# Central server (its address, e.g. "https://central.example.org"), from the project and
# form configured here, through Central's API for submission attachments, with the token
# (a session token of a web user who may read the form's submissions; never logged).
# Unset: a Central submission with photos is kept for a person.
INTAKE_CENTRAL_URL = env_str("INTAKE_CENTRAL_URL").strip().rstrip("/").removesuffix("/v1")
INTAKE_CENTRAL_PROJECT_ID = env_int("INTAKE_CENTRAL_PROJECT_ID", None)
INTAKE_CENTRAL_FORM_ID = env_str(
    "INTAKE_CENTRAL_FORM_ID", "monitoring_visit"
).strip()  # the XLSForm's form_id
INTAKE_CENTRAL_TOKEN = env_str("INTAKE_CENTRAL_TOKEN").strip()
if INTAKE_CENTRAL_URL and not re.match(r"^https?://[^/@\s]+$", INTAKE_CENTRAL_URL):
    raise ImproperlyConfigured(
        f"INTAKE_CENTRAL_URL must be an ODK Central server's address (https://host[:port]), not {INTAKE_CENTRAL_URL!r}"
    )
if INTAKE_CENTRAL_PROJECT_ID is not None and INTAKE_CENTRAL_PROJECT_ID < 1:
    raise ImproperlyConfigured("INTAKE_CENTRAL_PROJECT_ID must be an ODK Central project's id (1, 2, ...).")
# The organisation holding the applicants' data (the controller), named in the consent
# text with how to reach it (applicants.consent); unset, the text says "the
# organisation running this grant programme" in the reader's language.
DATA_CONTROLLER_NAME = env_str("DATA_CONTROLLER_NAME")
DATA_CONTROLLER_CONTACT = env_str("DATA_CONTROLLER_CONTACT", DEFAULT_FROM_EMAIL)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # JSON; form bodies outside uploads read, deprecated, until the sunset (core.parsers).
        "core.parsers.JSONParser",
        "core.parsers.LegacyMultiPartParser",
        "core.parsers.LegacyFormParser",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Micro-enterprise grants API",
    "DESCRIPTION": "REST API v1: see docs/api.md. Errors are JSON with a `detail` sentence.",
    # The API's version (docs/api.md, "The schema and its version": its changelog).
    "VERSION": "1.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status` with its own choices: each enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "SupplierStatusEnum": "grants.models.procurement.Supplier.Status",
        "PurchaseOrderStatusEnum": "grants.models.procurement.PurchaseOrder.Status",
        # (a donor report's languages are the applicants' languages: one enum)
        "LanguageEnum": "applicants.models.Language",
        "WashingtonGroupAnswerEnum": "applicants.models.WashingtonGroupAnswer",
        "CentreKindEnum": "applicants.models.IntegrationCentre.Kind",
        "KindEnum": "grants.models.documents.DocumentKind",  # (its name before centres had a kind too)
        "InstitutionKindEnum": "applicants.models.Institution.Kind",
        "ComplaintStatusEnum": "complaints.models.Status",
        "FormSubmissionStatusEnum": "integrations.models.FormSubmission.Status",
        "YesNoEnum": "integrations.kobo.YES_NO",
        "FieldItemKindEnum": "field.sync.KINDS",
        # (the events an endpoint subscribes to and the event a payload tells of: one enum)
        "EventsEnum": "integrations.webhooks.EVENTS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
        "config.schema.tighten_inputs",
    ],
}

# Security headers; production switches come from the environment.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
_secure = not DEVELOPMENT and not DEBUG and env_bool("SECURE_COOKIES", True)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
if _secure:
    # "__Host-": the browser only accepts them over HTTPS, for this exact host, path /.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _secure)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _secure else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
