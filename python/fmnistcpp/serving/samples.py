"""Photo-like pictures of Fashion-MNIST items, for the tests, the screenshot and the load test.

A Fashion-MNIST image is an item's negated luma, light on black. A product
photo is the other way round: a dark item on a light, slightly tinted,
unevenly lit and noisy background, much larger than 28 pixels, stored as a
lossy JPEG. :func:`photo_like` makes such a picture from a 28 x 28 image, so
that :mod:`.preprocess` can be checked on something that looks like what a
user uploads while the right answer is known (the item's test label).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

__all__ = ["photo_like", "png_declaring"]


def photo_like(item, size=(600, 800), seed=0, fmt="JPEG", quality=85) -> bytes:
    """Encoded bytes of an RGB ``size`` (width, height) photo of ``item`` ((28, 28) uint8).

    The item fills 60-80% of the shorter side at a random place, in a random
    dark colour (luma below ~45) on a light background (each channel 215-245)
    lit with a gradient of up to +-8 levels and Gaussian noise of 3 levels.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    width, height = size
    item = np.asarray(item, dtype=np.uint8).reshape(28, 28)
    side = int(min(width, height) * rng.uniform(0.6, 0.8))
    cover = np.asarray(
        Image.fromarray(item).resize((side, side), Image.Resampling.BICUBIC), dtype=np.float32
    )[..., None] / 255.0
    bg = rng.uniform(215, 245, size=3).astype(np.float32)
    colour = rng.uniform(0, 50, size=3).astype(np.float32)

    tilt = rng.uniform(-8, 8, size=2).astype(np.float32)
    light = (tilt[0] * np.linspace(-0.5, 0.5, width, dtype=np.float32)[None, :]
             + tilt[1] * np.linspace(-0.5, 0.5, height, dtype=np.float32)[:, None])
    photo = bg + light[..., None]
    x0 = int(rng.integers(0, width - side + 1))
    y0 = int(rng.integers(0, height - side + 1))
    window = photo[y0 : y0 + side, x0 : x0 + side]
    photo[y0 : y0 + side, x0 : x0 + side] = window * (1.0 - cover) + colour * cover
    photo += 3.0 * rng.standard_normal(photo.shape, dtype=np.float32)
    img = Image.fromarray(np.clip(photo + 0.5, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    if fmt.upper() == "JPEG":
        img.save(buf, "JPEG", quality=quality)
    else:
        img.save(buf, fmt.upper())
    return buf.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A decompression bomb's shape: a tiny PNG whose header declares ``width x height``."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
