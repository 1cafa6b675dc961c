"""Photos lose their metadata: EXIF (GPS positions of a returnee's home, the camera's
serial number, the time), XMP, comments and text chunks must not leak.

The pixels are copied into a new image that carries nothing else, turned upright by the
EXIF orientation first (that tag goes too), and encoded again; JPEGs keep their
quantisation tables, so the quality stays what the camera chose. Decoding holds the
pixels in memory (about 3 bytes per pixel), so images are limited in pixels as well.
"""

import tempfile

from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, JpegImagePlugin

from core.errors import ServiceError

MAX_PIXELS = 40_000_000
# Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse above MAX_PIXELS.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class UnreadableImage(ServiceError):
    status = 415


def strip_metadata(fileobj, content_type):
    """A new temporary file holding the same picture without any metadata."""
    fileobj.seek(0)
    out = tempfile.SpooledTemporaryFile(max_size=2 * 1024 * 1024)
    try:
        with Image.open(fileobj, formats=[FORMATS[content_type]]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnreadableImage(
                    _("The photo has %(mp)s megapixels; at most %(max)s are accepted.")
                    % {"mp": floatformat(width * height / 1e6, 1), "max": floatformat(MAX_PIXELS / 1e6, 1)},
                    code="too_many_pixels",
                )
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            options = _jpeg_options(image) if content_type == "image/jpeg" else {"optimize": True}
            clean = _pixels_only(image, content_type)
        if orientation in ORIENTATION:
            clean = clean.transpose(ORIENTATION[orientation])
        clean.save(out, format=FORMATS[content_type], **options)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError):
        out.close()
        raise UnreadableImage(
            _("The file looks like an image but cannot be read as one."), code="bad_image"
        ) from None
    except ServiceError:
        out.close()
        raise
    out.seek(0)
    return out


def _pixels_only(image, content_type):
    if image.mode == "P" or (content_type == "image/jpeg" and image.mode not in ("RGB", "L", "CMYK")):
        image = image.convert("RGBA" if content_type == "image/png" and _has_alpha(image) else "RGB")
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _has_alpha(image):
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _jpeg_options(image):
    options = {"quality": 90}
    tables = getattr(image, "quantization", None)
    if tables:
        options = {"qtables": tables}
        sampling = JpegImagePlugin.get_sampling(image)
        if sampling >= 0:
            options["subsampling"] = sampling
    return options
