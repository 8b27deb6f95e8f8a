"""Product photos in, safe renditions out (pure: bytes → bytes, no database).

Every upload is decoded and re-encoded by Pillow, never served as sent: what reaches a
buyer carries no EXIF (GPS position, camera serial), no embedded thumbnails or profiles
an attacker could hide a payload in, and is one of three known sizes. Decompression bombs
(a few KB that decode to gigapixels) are refused from the header's dimensions before any
pixel is decoded; Pillow's own bomb check is turned into a refusal too.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from marketred.services.errors import Reason

MAX_BYTES = 8 * 1024 * 1024  # one uploaded file
MAX_PIXELS = 40_000_000  # width × height of the uploaded picture
MIN_SIDE = 64
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Renditions: the longest side in pixels. "full" for the product page's zoom, "md" for
# cards and the product page, "sm" for carts, quote lines and the embed.
SIZES = {"full": 1600, "md": 480, "sm": 160}
CONTENT_TYPE = "image/webp"


class ImageRefused(ValueError):
    """Why an upload is not a photo we accept: `reason`, an English sentence with a code
    (the web shows its own words by the code)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProcessedImage:
    digest: str  # sha256 of the full rendition: names every rendition, so URLs never change
    width: int
    height: int
    renditions: dict[str, bytes]

    def key(self, size: str) -> str:
        return media_key(self.digest, size)


def media_key(digest: str, size: str) -> str:
    return f"{digest[:32]}-{size}.webp"


def _open(data: bytes) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise ImageRefused(
            Reason("PHOTO_TOO_LARGE", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        )
    if not data:
        raise ImageRefused(Reason("PHOTO_EMPTY", "the file is empty"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageRefused(
                    Reason(
                        "PHOTO_TOO_MANY_PIXELS",
                        f"the picture has {width}×{height} pixels; at most "
                        f"{MAX_PIXELS // 1_000_000} megapixels",
                        w=width,
                        h=height,
                    )
                )
            if min(width, height) < MIN_SIDE:
                raise ImageRefused(
                    Reason(
                        "PHOTO_TOO_SMALL",
                        f"the picture is smaller than {MIN_SIDE} pixels on a side",
                    )
                )
            image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(Reason("PHOTO_BOMB", "the picture decodes to too many pixels")) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRefused(
            Reason("PHOTO_NOT_A_PICTURE", "not a JPEG, PNG or WebP picture")
        ) from exc
    return image


def process(data: bytes) -> ProcessedImage:
    """Decode, turn upright (EXIF orientation), drop everything but pixels, make the
    renditions. Raises ImageRefused with the reason."""
    image = _open(data)
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.info = {}  # EXIF, ICC, XMP, comments: nothing but pixels goes on
    renditions: dict[str, bytes] = {}
    for name, side in SIZES.items():
        copy = image.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        copy.info = {}
        out = io.BytesIO()
        copy.save(out, format="WEBP", quality=82, method=4)
        renditions[name] = out.getvalue()
    digest = hashlib.sha256(renditions["full"]).hexdigest()
    return ProcessedImage(digest, image.width, image.height, renditions)


async def process_in_thread(data: bytes) -> ProcessedImage:
    """process() off the event loop: decoding and re-encoding a photo of up to 8 MB takes
    a noticeable amount of CPU, which would stall every other request meanwhile."""
    return await asyncio.to_thread(process, data)
