"""Photos lose their metadata (EXIF GPS positions of a returnee's home must not leak)."""

import tempfile

from PIL import Image, ImageOps

from .errors import ServiceError

Image.MAX_IMAGE_PIXELS = 60_000_000


def strip_metadata(fileobj, content_type):
    """Re-encode the pixels alone into a new file; no EXIF, XMP or text chunks survive."""
    fileobj.seek(0)
    out = tempfile.SpooledTemporaryFile(max_size=2 * 1024 * 1024)
    try:
        with Image.open(fileobj) as image:
            image = ImageOps.exif_transpose(image)
            clean = Image.new(image.mode, image.size)
            clean.paste(image)
            if content_type == "image/jpeg":
                if clean.mode not in ("RGB", "L"):
                    clean = clean.convert("RGB")
                clean.save(out, format="JPEG", quality=90)
            else:
                clean.save(out, format="PNG")
    except (OSError, Image.DecompressionBombError, ValueError):
        raise ServiceError("The image could not be read.", code="bad_image") from None
    out.seek(0)
    return out
