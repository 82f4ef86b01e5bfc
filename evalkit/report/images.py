"""Images in the HTML page: only ``data:image/(png|jpeg);base64,…`` URLs, and small ones.

:func:`safe_image` is the gate every image passes before it enters the page's data (the page's script checks
the same pattern again before showing one); :func:`thumbnail` makes the sample browser's JPEG thumbnails.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

from PIL import Image

from evalkit.data.sample import Sample
from evalkit.errors import SampleError

IMAGE_DATA_URL = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+$")
"""The only image sources the page shows; anything else is dropped."""
MAX_IMAGE_CHARS = 400_000
"""Images whose data URL is longer than this are shrunk to a thumbnail (or dropped if that fails)."""
OVERSIZE_THUMBNAIL_PX = 240
THUMBNAIL_PX = 160
"""The sample browser's thumbnails are at most this many pixels a side."""
JPEG_QUALITY = 70


def safe_image(value: object) -> str | None:
    """A data URL the page may show, from bare base64 PNG or a data URL; None when it is not one.

    Oversized images are re-encoded as a PNG thumbnail of at most ``OVERSIZE_THUMBNAIL_PX`` pixels a side.
    """
    if not isinstance(value, str) or not value:
        return None
    url = value if value.startswith("data:") else f"data:image/png;base64,{value}"
    if not IMAGE_DATA_URL.match(url):
        return None
    if len(url) <= MAX_IMAGE_CHARS:
        return url
    try:
        with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1], validate=True))) as image:
            image.thumbnail((OVERSIZE_THUMBNAIL_PX, OVERSIZE_THUMBNAIL_PX))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="PNG", optimize=True)
    except (OSError, ValueError, binascii.Error, Image.DecompressionBombError):
        return None
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _on_white(image: Image.Image) -> Image.Image:
    """``image`` as RGB, transparent parts white (JPEG has no alpha)."""
    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def thumbnail(sample: Sample) -> str | None:
    """The sample's first image as a JPEG data URL at most THUMBNAIL_PX pixels a side; None if it has none or
    it cannot be read."""
    if not sample.images:
        return None
    try:
        image = sample.images[0].load()
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        buffer = io.BytesIO()
        _on_white(image).save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    except (SampleError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
