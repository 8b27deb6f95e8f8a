"""Product photos: re-encoding strips EXIF/GPS, bombs and oversized files are refused,
eight at most, main one and order, served by content hash with a year-long cache, and
the product's image_urls (API, search, embed) follow the photos."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from marketred.integrations.s3 import S3Client, S3Error
from marketred.services.catalog import image_processing
from marketred.services.catalog.image_processing import ImageRefused, process
from marketred.services.catalog.media_store import s3_config
from marketred.store.models import MediaBlob
from tests.catalog.helpers import create_product, product_body, vendor_actor
from tests.support.api import app_client
from tests.support.ports import free_port

PRODUCTS = "/api/v1/vendor/products"


def photo(color: str = "red", size: tuple[int, int] = (800, 600), fmt: str = "JPEG",
          gps: bool = False) -> bytes:  # fmt: skip
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "CameraMaker"  # Make
        gps_ifd = {1: "S", 2: (33.0, 26.0, 0.0), 3: "W", 4: (70.0, 39.0, 0.0)}
        exif[0x8825] = gps_ifd
        image.save(out, format=fmt, exif=exif.tobytes())
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def test_reencoding_drops_exif_and_gps_and_makes_three_sizes():
    original = photo(gps=True, size=(2400, 1800))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # it had a position
    done = process(original)
    assert set(done.renditions) == {"full", "md", "sm"}
    for name, side in image_processing.SIZES.items():
        out = Image.open(io.BytesIO(done.renditions[name]))
        assert out.format == "WEBP"
        assert max(out.size) == side
        assert not out.getexif()
        assert "exif" not in out.info
        assert b"CameraMaker" not in done.renditions[name]
    assert (done.width, done.height) == (2400, 1800)


def test_png_with_transparency_and_webp_are_accepted():
    rgba = Image.new("RGBA", (300, 300), (0, 128, 0, 0))
    out = io.BytesIO()
    rgba.save(out, format="PNG")
    assert process(out.getvalue()).width == 300
    assert process(photo(fmt="WEBP")).height == 600


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 100, "not a JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a JPEG, PNG or WebP"),
        (b"\xff\xd8\xff" + b"garbage" * 50, "not a JPEG, PNG or WebP"),
    ],
)
def test_what_is_not_a_photo_is_refused(data: bytes, reason: str):
    with pytest.raises(ImageRefused, match=reason):
        process(data)


def test_a_decompression_bomb_is_refused_before_decoding():
    # 10 000 × 6 000 one-bit pixels compress to a few KB and would decode to 60 megapixels.
    bomb = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(bomb, format="PNG")
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(ImageRefused, match="10000×6000 pixels"):
        process(bomb.getvalue())


def test_too_big_or_too_small_is_refused():
    with pytest.raises(ImageRefused, match="larger than 8 MB"):
        process(b"\xff" * (image_processing.MAX_BYTES + 1))
    with pytest.raises(ImageRefused, match="smaller than 64 pixels"):
        process(photo(size=(40, 40)))


async def _upload(client: Any, headers: dict[str, str], product_id: str, data: bytes,
                  alt: str = "Polera gris, vista frontal") -> Any:  # fmt: skip
    return await client.post(
        f"{PRODUCTS}/{product_id}/images",
        files={"file": ("foto.jpg", data, "image/jpeg")},
        data={"alt": alt},
        headers=headers,
    )


@pytest.mark.db
async def test_upload_serves_cached_renditions_and_updates_image_urls(client, db, settings):
    vendor = await vendor_actor(db, settings)
    product = await create_product(client, vendor, product_body(image_urls=[]))
    r = await _upload(client, vendor.headers, product["id"], photo(gps=True))
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["position"] == 0
    assert first["alt"] == "Polera gris, vista frontal"
    media = await client.get(first["small_url"].removeprefix(settings.public_url.rstrip("/")))
    assert media.status_code == 200
    assert media.headers["content-type"] == "image/webp"
    assert media.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert b"GPS" not in media.content
    etag = media.headers["etag"]
    again = await client.get(media.request.url.path, headers={"If-None-Match": etag})
    assert again.status_code == 304

    second = (await _upload(client, vendor.headers, product["id"], photo("blue"))).json()
    assert second["position"] == 1
    shown = (await client.get(f"/api/v1/products/{product['id']}")).json()
    assert shown["image_urls"] == [first["thumbnail_url"], second["thumbnail_url"]]


@pytest.mark.db
async def test_eight_photos_at_most_and_the_same_photo_once(client, db, settings):
    vendor = await vendor_actor(db, settings)
    product = await create_product(client, vendor, product_body(image_urls=[]))
    colors = ["red", "blue", "green", "yellow", "purple", "orange", "pink", "gray"]
    for color in colors:
        r = await _upload(client, vendor.headers, product["id"], photo(color))
        assert r.status_code == 201, r.text
    r = await _upload(client, vendor.headers, product["id"], photo("white"))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "file", "message": "at most 8 photos per product", "code": "PHOTO_LIMIT"}
    ]

    other = await create_product(client, vendor, product_body("Otra", image_urls=[],
        variants=[{"sku": "OTRA-1", "price": 1000}]))  # fmt: skip
    assert (await _upload(client, vendor.headers, other["id"], photo("red"))).status_code == 201
    r = await _upload(client, vendor.headers, other["id"], photo("red"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == "this photo is already there"


@pytest.mark.db
async def test_refusals_change_nothing(client, db, settings):
    vendor = await vendor_actor(db, settings)
    stranger = await vendor_actor(db, settings, "Otra Tienda SpA")
    product = await create_product(client, vendor, product_body(image_urls=[]))
    r = await _upload(client, stranger.headers, product["id"], photo())
    assert r.status_code == 404
    r = await _upload(client, vendor.headers, product["id"], photo(), alt="   ")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "alt"
    r = await _upload(client, vendor.headers, product["id"], b"not a picture")
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "file",
            "message": "not a JPEG, PNG or WebP picture",
            "code": "PHOTO_NOT_A_PICTURE",
        }
    ]
    huge = b"\xff" * (image_processing.MAX_BYTES + 200_000)
    r = await _upload(client, vendor.headers, product["id"], huge)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    shown = (await client.get(f"/api/v1/products/{product['id']}")).json()
    assert shown["image_urls"] == []
    assert (await client.get(f"/media/{uuid.uuid4().hex}-sm.webp")).status_code == 404


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[tuple[str, str, str]]:
    """A real S3 implementation (moto's server, in this process) on a free loopback port,
    checking SigV4 signatures against an IAM user allowed s3:* (endpoint, key, secret)."""
    from moto import settings as moto_settings
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    from moto.server import ThreadedMotoServer

    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    iam.create_user("us-east-1", "marketred-media")
    key = iam.create_access_key("marketred-media")
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}  # fmt: skip
    iam.put_user_policy("marketred-media", "media", json.dumps(policy))
    before = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # check every request's signature
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}", key.access_key_id, key.secret_access_key
    finally:
        server.stop()
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = before


@pytest.mark.db
async def test_photos_can_live_in_an_s3_compatible_bucket(
    s3_endpoint, settings, engine, session_factory, http_client, db
):
    endpoint, access_key, secret_key = s3_endpoint
    s3 = settings.model_copy(
        update={"media_store": "s3", "s3_endpoint": endpoint, "s3_bucket": "fotos",
                "s3_access_key": access_key, "s3_secret_key": secret_key}
    )  # fmt: skip
    bucket = S3Client(s3_config(s3), http_client)
    await bucket.create_bucket()
    async with app_client(s3, engine, session_factory, http_client) as client:
        vendor = await vendor_actor(db, s3)
        await db.commit()
        product = await create_product(client, vendor, product_body(image_urls=[]))
        r = await _upload(client, vendor.headers, product["id"], photo("teal", gps=True))
        assert r.status_code == 201, r.text
        key = r.json()["small_url"].rsplit("/", 1)[1]
        stored = await bucket.get(f"media/{key}")
        assert stored is not None
        assert stored[1] == "image/webp"
        assert b"GPS" not in stored[0]
        assert await db.get(MediaBlob, key) is None  # not in PostgreSQL
        served = await client.get(f"/media/{key}")
        assert served.status_code == 200
        assert served.content == stored[0]
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    # A wrong secret is refused by the bucket: the signature is really checked.
    wrong = S3Client(s3_config(s3.model_copy(update={"s3_secret_key": "nope"})), http_client)
    with pytest.raises(S3Error):
        await wrong.put("media/x.webp", b"x", "image/webp")
