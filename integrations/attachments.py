"""Fetching a submission's photos from the form server, and from nowhere else.

A submission names where its photos are (Kobo's `download_url`); fetched blindly, that
would let whoever can post a submission make this server read any address it reaches
(SSRF: the cloud's metadata service, an admin page on the private network). So a photo
is fetched only from an origin on INTAKE_ATTACHMENT_ORIGINS (scheme, host and port, as
configured by the operator), redirects only to another such origin, within a time limit
and the photo size limit, and only an image is taken; the stored photo then goes through
the upload checks every photo does (content type by its bytes, pixels, EXIF removed)."""

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

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if origin_of(newurl) not in allowed_origins():
            raise Refusal(
                "photo_host_not_allowed",
                _("A photo's address led to a server that is not the form server's: it was not fetched."),
            )
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and origin_of(newurl) != origin_of(req.full_url):
            new.remove_header("Authorization")
        return new


def _opener():
    # No proxy from the environment: the allow-list names the server actually reached.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _AllowListRedirects())


def fetch_photo(photo):
    """The photo as an uploaded file, or Refusal naming why it was not fetched."""
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
    request = urllib.request.Request(url, headers={"Accept": "image/jpeg, image/png"})  # noqa: S310 - origin checked
    if settings.INTAKE_ATTACHMENT_TOKEN:
        request.add_unredirected_header("Authorization", f"Token {settings.INTAKE_ATTACHMENT_TOKEN}")
    limit = documents.max_bytes(DocumentKind.PHOTO)
    try:
        with _opener().open(request, timeout=TIMEOUT_SECONDS) as answer:
            content_type = answer.headers.get_content_type()
            body = answer.read(limit + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise Refusal(
            "photo_unavailable",
            _("%(field)s: the photo could not be fetched (%(error)s); try again later.")
            % {"field": photo.field, "error": str(getattr(error, "reason", error))[:200]},
        ) from None
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
