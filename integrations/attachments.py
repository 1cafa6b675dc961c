"""Fetching a submission's photos from the form server, and from nowhere else.

A submission names where its photos are (Kobo's `download_url`); fetched blindly, that
would let whoever can post a submission make this server read any address it reaches
(SSRF: the cloud's metadata service, an admin page on the private network). So a photo
is fetched only from an origin on INTAKE_ATTACHMENT_ORIGINS (scheme, host and port, as
configured by the operator), redirects only to another such origin, within a time limit
and the photo size limit, and only an image is taken; the stored photo then goes through
the upload checks every photo does (content type by its bytes, pixels, EXIF removed).

An ODK Central submission names a photo by its file name only. It is fetched from the
one Central server configured (INTAKE_CENTRAL_URL), from the configured project and form,
through Central's API for a submission's attachments
(`GET /v1/projects/{project}/forms/{form}/submissions/{instance}/attachments/{name}`),
with INTAKE_CENTRAL_TOKEN as `Authorization: Bearer`; the same limits and checks apply,
and Central's redirect to its storage is followed only to an origin on
INTAKE_ATTACHMENT_ORIGINS (without the token)."""

import re
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from grants import documents
from grants.models import DocumentKind

from .kobo import Refusal

IMAGE_TYPES = {"image/jpeg", "image/png"}
TIMEOUT_SECONDS = 10
DEFAULT_PORTS = {"http": 80, "https": 443}
# What `@odata.context` names: /v1/projects/{project}/forms/{form}.svc/...
CENTRAL_FORM_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/forms/(?P<form>[^/]+?)(?:\.svc)?(?:/|$)")


def origin_of(url):
    """ "scheme://host:port" of an absolute http(s) URL, the port always written; None otherwise."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


def allowed_origins():
    return [o for o in (origin_of(v) for v in settings.INTAKE_ATTACHMENT_ORIGINS) if o]


def _absolute(url):
    """Kobo may name an attachment by its path alone: it is then on the first origin."""
    origins = settings.INTAKE_ATTACHMENT_ORIGINS
    if url.startswith("/") and not url.startswith("//") and origins:
        return urllib.parse.urljoin(origins[0], url)
    return url


class _AllowListRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 3

    def __init__(self, origins):
        super().__init__()
        self.origins = origins

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if origin_of(newurl) not in self.origins:
            raise Refusal(
                "photo_host_not_allowed",
                _("A photo's address led to a server that is not the form server's: it was not fetched."),
            )
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and origin_of(newurl) != origin_of(req.full_url):
            new.remove_header("Authorization")
        return new


def _opener(origins):
    # No proxy from the environment: the allow-list names the server actually reached.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _AllowListRedirects(origins))


def fetch_photo(photo):
    """The photo as an uploaded file, or Refusal naming why it was not fetched."""
    if photo.central is not None:
        return _fetch(photo, *_central_request(photo))
    url = _absolute(photo.url)
    if not allowed_origins():
        raise Refusal(
            "photos_not_configured",
            _("The submission has photos, but no form server is configured to fetch them from."),
        )
    if origin_of(url) not in allowed_origins():
        raise Refusal(
            "photo_host_not_allowed",
            _("%(field)s: the photo is on a server that is not the form server's: it was not fetched.")
            % {"field": photo.field},
        )
    token = settings.INTAKE_ATTACHMENT_TOKEN
    return _fetch(photo, url, f"Token {token}" if token else None, allowed_origins())


def central_origin():
    """The configured ODK Central server's origin, or None when there is none."""
    return origin_of(settings.INTAKE_CENTRAL_URL) if settings.INTAKE_CENTRAL_URL else None


def _central_request(photo):
    """(url, authorization, origins a redirect may go to) of a photo on ODK Central;
    Refusal when Central is not configured or the row is of another server or form."""
    origin = central_origin()
    project, form = settings.INTAKE_CENTRAL_PROJECT_ID, settings.INTAKE_CENTRAL_FORM_ID
    if origin is None or not project or not form or not settings.INTAKE_CENTRAL_TOKEN:
        raise Refusal(
            "photos_not_configured",
            _(
                "The submission is ODK Central's and has photos, but no ODK Central server, "
                "project, form and token are configured to fetch them from."
            ),
        )
    attachment = photo.central
    if attachment.context:
        named = origin_of(attachment.context)
        if named is not None and named != origin:
            raise Refusal(
                "photo_host_not_allowed",
                _("%(field)s: the photo is on a server that is not the form server's: it was not fetched.")
                % {"field": photo.field},
            )
        path = CENTRAL_FORM_PATH.match(urllib.parse.urlsplit(attachment.context).path)
        if path is not None and (
            urllib.parse.unquote(path["project"]) != str(project)
            or urllib.parse.unquote(path["form"]) != form
        ):
            raise Refusal(
                "photo_other_form",
                _(
                    "%(field)s: the submission is of another ODK Central project or form than the "
                    "one configured: its photo was not fetched."
                )
                % {"field": photo.field},
            )
    quoted = urllib.parse.quote
    url = (
        f"{settings.INTAKE_CENTRAL_URL}/v1/projects/{int(project)}/forms/{quoted(form, safe='')}"
        f"/submissions/{quoted(attachment.instance, safe=':')}/attachments/{quoted(attachment.name, safe='')}"
    )
    origins = [origin, *allowed_origins()]
    return url, f"Bearer {settings.INTAKE_CENTRAL_TOKEN}", origins


def _fetch(photo, url, authorization, origins):
    """GET the photo; the credentials go to that URL's server only, never on a redirect."""
    request = urllib.request.Request(url, headers={"Accept": "image/jpeg, image/png"})  # noqa: S310 - origin checked
    if authorization:
        request.add_unredirected_header("Authorization", authorization)
    limit = documents.max_bytes(DocumentKind.PHOTO)
    try:
        with _opener(origins).open(request, timeout=TIMEOUT_SECONDS) as answer:
            content_type = answer.headers.get_content_type()
            body = answer.read(limit + 1)
    except urllib.error.HTTPError as error:
        if photo.central is not None and error.code in (401, 403):
            raise Refusal(
                "photo_token_refused",
                _(
                    "%(field)s: ODK Central did not accept this server's token (%(status)s): an "
                    "administrator renews INTAKE_CENTRAL_TOKEN, then apply it again."
                )
                % {"field": photo.field, "status": error.code},
            ) from None
        raise _unavailable(photo, error) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise _unavailable(photo, error) from None
    if len(body) > limit:
        raise Refusal(
            "photo_too_large",
            _("%(field)s: the photo is larger than %(limit)s.")
            % {"field": photo.field, "limit": documents.human_size(limit)},
        )
    if content_type not in IMAGE_TYPES:
        raise Refusal(
            "photo_type",
            _("%(field)s: the form server sent %(type)s, not a JPEG or PNG photo.")
            % {"field": photo.field, "type": content_type[:60]},
        )
    return SimpleUploadedFile(photo.filename or f"{photo.field}.jpg", body, content_type=content_type)


def _unavailable(photo, error):
    return Refusal(
        "photo_unavailable",
        _("%(field)s: the photo could not be fetched (%(error)s); try again later.")
        % {"field": photo.field, "error": str(getattr(error, "reason", error))[:200]},
    )
