"""Photos lose their metadata: a returnee's home must not leak through a GPS tag."""

import hashlib
import io

import pytest
from PIL import ExifTags, Image, ImageFile

from grants.models import Document

from .support import XMP, assert_nothing_stored, jpeg, png, png_bomb, post_document

pytestmark = pytest.mark.django_db


def upload_photo(api, world, data, *, name="shop.jpg", content_type="image/jpeg"):
    app = world.application()
    return post_document(
        api(world.officer), app, kind="photo", name=name, data=data, content_type=content_type
    )


def stored(store):
    document = Document.objects.get()
    data = store.read(document.file.name)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.size == len(data)
    return document, data, Image.open(io.BytesIO(data))


def test_gps_camera_xmp_and_comments_are_gone_from_a_jpeg(world, api, store):
    original = jpeg(comment=b"Marko's house, Nis", xmp=XMP)
    before = Image.open(io.BytesIO(original))
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"

    response = upload_photo(api, world, original)

    assert response.status_code == 201
    document, data, image = stored(store)
    assert (image.format, image.size, document.content_type) == ("JPEG", (64, 48), "image/jpeg")
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "comment"} & set(image.info)
    for trace in (b"Exif", b"GPS", b"PhoneMaker", b"SN-0042", b"Marko", b"xmpmeta"):
        assert trace not in data
    # Encoded again with the camera's own quantisation tables: the quality stays.
    assert image.quantization == before.quantization


def test_a_photo_taken_upright_stays_upright_without_its_orientation_tag(world, api, store):
    response = upload_photo(api, world, jpeg((40, 20), orientation=6))
    assert response.status_code == 201
    _document, _data, image = stored(store)
    assert image.size == (20, 40)
    assert ExifTags.Base.Orientation not in image.getexif()


@pytest.mark.parametrize("mode", ["RGBA", "P"])
def test_png_text_chunks_and_exif_are_gone_and_the_colours_stay(world, api, store, mode):
    response = upload_photo(api, world, png(mode=mode), name="shop.png", content_type="image/png")
    assert response.status_code == 201
    _document, data, image = stored(store)
    assert image.format == "PNG"
    assert not {"Location", "Comment", "exif"} & set(image.info)
    assert b"43.3209" not in data and b"PhoneMaker" not in data
    pixels = image.convert("RGBA")
    if mode == "P":
        assert (pixels.getpixel((0, 0)), pixels.getpixel((31, 0))) == ((255, 0, 0, 255), (0, 255, 0, 255))
    else:
        assert pixels.getpixel((5, 5)) == (10, 120, 200, 255)


def test_the_same_photo_twice_is_caught_after_cleaning(world, api, store):
    app = world.application()
    client = api(world.officer)
    data = jpeg()
    assert post_document(client, app, kind="photo", name="a.jpg", data=data).status_code == 201
    response = post_document(client, app, kind="photo", name="b.jpg", data=data)
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate"
    assert len(store.keys()) == 1


def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(world, api, store, monkeypatch):
    """The 170 KB PNG of 6320 × 6320 pixels that cost a worker 310 MB: its header is
    read, and it is refused without a pixel decoded."""
    bomb = png_bomb(6320)
    assert len(bomb) < 200_000

    def decode(image):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    response = upload_photo(api, world, bomb, name="shop.png", content_type="image/png")
    assert response.status_code == 413
    assert response.json()["code"] == "too_many_pixels"
    assert response.json()["detail"] == (
        "The photo has more than 16.0 megapixels. Take it at a lower resolution or scale it down, "
        "then upload it again."
    )
    assert_nothing_stored(store)


def test_just_above_the_limit_is_refused_too_not_only_twice_it(world, api, store, monkeypatch):
    # Pillow only warns between its limit and twice it; that warning refuses as well.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_500_000)
    response = upload_photo(api, world, jpeg((2000, 1000)))
    assert response.status_code == 413
    assert response.json()["code"] == "too_many_pixels"
    assert "more than 1.5 megapixels" in response.json()["detail"]
    assert_nothing_stored(store)


def test_a_photo_at_the_limit_is_accepted(world, api, store):
    response = upload_photo(api, world, png_bomb(4000), name="scan.png", content_type="image/png")
    assert response.status_code == 201
    _document, _data, image = stored(store)
    assert image.size == (4000, 4000)
