"""The document suite runs twice: with local files and with S3 over HTTP (a moto server,
configured exactly as production is). `store` is the storage under test, read directly."""

import pytest

from ..s3server import Bucket, moto_server, use_s3  # noqa: F401  (moto_server is a fixture)
from .support import Folder


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request, settings, tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    # Where Django spools uploads: the tests check nothing is left there.
    settings.FILE_UPLOAD_TEMP_DIR = str(uploads)
    if request.param == "local":
        return Folder(settings.MEDIA_ROOT)
    endpoint = request.getfixturevalue("moto_server")
    bucket = Bucket(endpoint)
    use_s3(settings, endpoint, bucket.name)
    return bucket
