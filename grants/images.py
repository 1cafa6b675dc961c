"""Photos lose their metadata: EXIF (GPS positions of a returnee's home, the camera's
serial number, the time), XMP, comments and text chunks must not leak.

The pixels are copied into a new image that carries nothing else, turned upright by the
EXIF orientation first (that tag goes too), and encoded again; JPEGs keep their
quantisation tables, so the quality stays what the camera chose.

Decoding holds the pixels in memory, and a few kilobytes of PNG can declare hundreds of
megapixels. So the size is read from the header and refused before a single pixel is
decoded (Pillow's own decompression-bomb check, set to our limit and made an error), and
the work below keeps at most two full copies of the pixels alive at once (a palette
PNG adds its one byte a pixel): about 150 MB for the largest image accepted, measured in
docs/storage.md.
"""

import tempfile
import warnings

from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, JpegImagePlugin, PngImagePlugin

from core.errors import ServiceError

# 16 megapixels: a phone's photo (12 MP, 4032 × 3024) and an A4 page scanned at 400 dpi
# (15.5 MP) fit; what is larger is scaled down before it is uploaded.
MAX_PIXELS = 16_000_000
# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; strip_metadata turns
# the warning into a refusal too, and every other use of Pillow in the process gets the
# same ceiling.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# PNG text chunks are thrown away anyway: no reason to inflate 64 MB of them first.
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024

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


class ImageTooLarge(ServiceError):
    status = 413


def too_many_pixels():
    return ImageTooLarge(
        _(
            "The photo has more than %(max)s megapixels. Take it at a lower resolution or "
            "scale it down, then upload it again."
        )
        % {"max": floatformat(Image.MAX_IMAGE_PIXELS / 1e6, 1)},
        code="too_many_pixels",
    )


def strip_metadata(fileobj, content_type):
    """A new temporary file holding the same picture without any metadata."""
    fileobj.seek(0)
    out = tempfile.SpooledTemporaryFile(max_size=2 * 1024 * 1024)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(fileobj, formats=[FORMATS[content_type]])
        with image:
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            options = _jpeg_options(image) if content_type == "image/jpeg" else {"optimize": True}
            clean = _pixels_only(image, content_type)
        # The decoded original is closed: the turn below is the second copy, not the third.
        if orientation in ORIENTATION:
            clean = clean.transpose(ORIENTATION[orientation])
        clean.save(out, format=FORMATS[content_type], **options)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        out.close()
        raise too_many_pixels() from None
    except (OSError, SyntaxError, ValueError, EOFError):
        out.close()
        raise UnreadableImage(
            _("The file looks like an image but cannot be read as one."), code="bad_image"
        ) from None
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
