"""A photo becomes a Fashion-MNIST image the way the dataset's authors made theirs.

Xiao, Rasul and Vollgraf (2017), section 2, fed Zalando's 51 x 73 shop
thumbnails (products on a light-gray #fdfdfd background) through seven steps:
convert to PNG; trim the edges close to the corner pixels' colour (within 5%
of the maximum intensity in RGB space); resize the longest edge to 28 by
subsampling (rows and columns skipped); sharpen with a Gaussian operator of
radius and standard deviation 1.0; extend the shortest edge to 28 with the
image centred; negate; convert to 8-bit grayscale. :func:`to_fashion_mnist`
does the same with Pillow. Where a user's photo is not a shop thumbnail it
adds what the shop had already done, and says so:

- EXIF orientation is applied and transparency is laid on white (a phone
  photo is stored sideways; a PNG with alpha has no background colour);
- the background is the median of the four corners' 3 x 3 patches, and the
  trim mask is taken on a 3 x 3 median-filtered copy, so sensor noise and
  JPEG speckle do not stop the trim (the kept pixels are not filtered);
- a crop larger than a shop thumbnail is first reduced to a 73-pixel longest
  edge with Lanczos filtering, as Zalando made its thumbnails; only then are
  rows and columns skipped as in the paper (subsampling a 3000-pixel photo
  straight to 28 would keep 1 pixel in 100 and alias badly);
- negation is taken relative to the background: ``255 * (bg - v) / bg``, so
  the photo's background becomes 0 as #fdfdfd did (for bg = 253 this is the
  paper's ``255 - v`` within 1%); a dark background (luma < 128, e.g. an
  image that is already light-on-black, like Fashion-MNIST itself) is
  stretched without negation: ``255 * (v - bg) / (255 - bg)``.

Grayscale is Pillow's ITU-R 601-2 luma, taken before sharpening and
negation (both steps are linear, so the order changes only rounding).
The model then sees ``pixels / 255.0`` as ``python -m fmnistcpp train``
scaled its training images (:func:`model_input`).
"""

from __future__ import annotations

import io
import warnings

import numpy as np

__all__ = [
    "ACCEPTED_FORMATS",
    "ImageError",
    "decode",
    "to_fashion_mnist",
    "preprocess",
    "model_input",
]

#: Pillow format name -> MIME type of the uploads accepted.
ACCEPTED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
SIZE = 28
#: Trim threshold: Euclidean RGB distance to the background, as a fraction of 255.
FUZZ = 0.05
#: Longest edge of the shop thumbnails (51 x 73) the authors started from.
THUMBNAIL_EDGE = 73
#: Decoded pictures are reduced to at most this longest edge (speed, memory).
WORK_EDGE = 512
#: The trim mask is found on a copy this small (one of its pixels is < 0.25 px at 28).
MASK_EDGE = 128
#: A corner this far (RGB distance) from the other corners' median is item, not background.
_CORNER_SPREAD = 40.0
#: Larger pictures are refused before decoding (a phone photo is 12-50 Mpx;
#: a decompression bomb declares far more in a few bytes of header).
MAX_PIXELS = 64_000_000


class ImageError(ValueError):
    """An upload that cannot become a Fashion-MNIST image; ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _formats_text() -> str:
    return "a PNG, JPEG or WebP image"


def decode(data: bytes, max_pixels: int = MAX_PIXELS):
    """Decodes PNG/JPEG/WebP bytes to an upright RGB ``PIL.Image`` on white.

    Raises :class:`ImageError` (415 not an accepted format, 413 too many
    pixels, 400 truncated or corrupt) instead of Pillow's own exceptions.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ImageError(f"the upload is empty: expected {_formats_text()}")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; an
            # upload that large is refused like a bomb, not decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except UnidentifiedImageError:
        raise ImageError(
            f"the upload is not {_formats_text()} (it starts with {bytes(data[:8])!r})",
            status=415,
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"the image declares too many pixels: {e}", status=413) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"the image header is truncated or corrupt: {e}") from None

    w, h = img.size
    if w < 1 or h < 1:
        raise ImageError(f"the image is {w} x {h} pixels: expected at least 1 x 1")
    if w * h > max_pixels:
        raise ImageError(
            f"the image is {w} x {h} = {w * h:,} pixels; at most {max_pixels:,} are "
            f"accepted (send a smaller photo)",
            status=413,
        )
    try:
        # JPEG can decode at 1/2, 1/4 or 1/8 scale directly: a 12 Mpx phone
        # photo never exists at full size in memory.
        img.draft("RGB", (WORK_EDGE, WORK_EDGE))
        img.load()
        img = ImageOps.exif_transpose(img)
        img = _flatten(img)
        img.thumbnail((WORK_EDGE, WORK_EDGE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(f"the image data is truncated or corrupt: {e}") from None
    return img


def _flatten(img):
    """RGB on a white background (transparent pixels become white)."""
    from PIL import Image

    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit grayscale PNG
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if a.max() > 255 else 255.0
        img = Image.fromarray(np.clip(a * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _corner_colours(rgb: np.ndarray) -> np.ndarray:
    """(4, 3) median colours of the corners' patches: top-left, top-right,
    bottom-left, bottom-right. A corner far from the others' median (the item
    touches it) takes that median instead."""
    k = max(1, min(3, rgb.shape[0] // 2, rgb.shape[1] // 2))
    patches = [rgb[:k, :k], rgb[:k, -k:], rgb[-k:, :k], rgb[-k:, -k:]]
    corners = np.stack([np.median(p.reshape(-1, 3), axis=0) for p in patches])
    centre = np.median(corners, axis=0)
    far = np.sqrt(((corners - centre) ** 2).sum(axis=1)) > _CORNER_SPREAD
    corners[far] = centre
    return corners


def _background_field(corners: np.ndarray, height: int, width: int, box=None) -> np.ndarray:
    """(height, width, 3) background colour, bilinear between the four corners.

    ``box`` = (x0, y0, x1, y1, W, H): the field over that crop of a W x H image.
    """
    x0, y0, x1, y1, full_w, full_h = box or (0, 0, width, height, width, height)
    u = ((np.arange(width) + 0.5) * (x1 - x0) / width + x0) / full_w
    v = ((np.arange(height) + 0.5) * (y1 - y0) / height + y0) / full_h
    u, v = u[None, :, None], v[:, None, None]
    tl, tr, bl, br = corners
    return (1 - v) * ((1 - u) * tl + u * tr) + v * ((1 - u) * bl + u * br)


def to_fashion_mnist(img, fuzz: float = FUZZ) -> np.ndarray:
    """A ``PIL.Image`` as a Fashion-MNIST image: ``(28, 28)`` uint8, item light on black.

    Raises :class:`ImageError` when no pixel differs from the background by
    more than ``fuzz`` (a blank picture or an empty canvas).
    """
    from PIL import Image, ImageFilter

    img = _flatten(img)
    full_w, full_h = img.size

    # trim: the mask on a small, median-filtered copy, the crop on the image
    small = img.copy()
    small.thumbnail((MASK_EDGE, MASK_EDGE), Image.Resampling.BOX)
    smooth = np.asarray(small.filter(ImageFilter.MedianFilter(3)), dtype=np.float32)
    corners = _corner_colours(smooth)
    field = _background_field(corners, *smooth.shape[:2])
    item = np.sqrt(((smooth - field) ** 2).sum(axis=-1)) > fuzz * 255.0
    rows, cols = np.flatnonzero(item.any(axis=1)), np.flatnonzero(item.any(axis=0))
    if rows.size == 0:
        raise ImageError(
            "found no item in the picture: every pixel is within "
            f"{fuzz:.0%} of the background colour; expected an item on a plain background"
        )
    sx, sy = full_w / smooth.shape[1], full_h / smooth.shape[0]
    box = (
        int(np.floor(cols[0] * sx)), int(np.floor(rows[0] * sy)),
        min(full_w, int(np.ceil((cols[-1] + 1) * sx))), min(full_h, int(np.ceil((rows[-1] + 1) * sy))),
    )
    crop = img.crop(box)

    # grayscale, with the background brought to white (dark backgrounds: to
    # black first, then negated like the rest) -- see the module docstring
    luma = np.asarray(crop.convert("L"), dtype=np.float32)
    bg = _background_field(corners, crop.height, crop.width, box + (full_w, full_h))
    bg = bg @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if float(np.mean(bg)) >= 128.0:
        light = 255.0 * luma / np.maximum(bg, 1.0)
    else:
        light = 255.0 - 255.0 * (luma - bg) / np.maximum(255.0 - bg, 1.0)
    gray = Image.fromarray(np.clip(np.rint(light), 0, 255).astype(np.uint8), "L")

    w, h = gray.size
    if max(w, h) > THUMBNAIL_EDGE:
        s = THUMBNAIL_EDGE / max(w, h)
        gray = gray.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.LANCZOS)
        w, h = gray.size
    s = SIZE / max(w, h)
    gray = gray.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.NEAREST)
    gray = gray.filter(ImageFilter.UnsharpMask(radius=1.0, percent=100, threshold=0))

    canvas = Image.new("L", (SIZE, SIZE), 255)
    # an odd margin goes to the left and top, as in the dataset's own images
    canvas.paste(gray, ((SIZE - gray.width + 1) // 2, (SIZE - gray.height + 1) // 2))
    return (255 - np.asarray(canvas, dtype=np.uint8)).astype(np.uint8)


def preprocess(data: bytes, max_pixels: int = MAX_PIXELS, fuzz: float = FUZZ) -> np.ndarray:
    """Image file bytes -> ``(28, 28)`` uint8 Fashion-MNIST image (:func:`decode`, then
    :func:`to_fashion_mnist`)."""
    return to_fashion_mnist(decode(data, max_pixels=max_pixels), fuzz=fuzz)


def model_input(images: np.ndarray, input_shape) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` images as the model's float32 input ``(N, *input_shape[1:])``,
    scaled ``/ 255.0`` as the main job trained on them."""
    shape = tuple(int(d) for d in input_shape[1:])
    images = np.asarray(images)
    if int(np.prod(shape)) != SIZE * SIZE:
        raise ValueError(f"the model's input {tuple(input_shape)} is not a 28 x 28 image")
    return np.ascontiguousarray((images.astype(np.float32) / 255.0).reshape((-1,) + shape))
