"""fmnistcpp.serving.preprocess: photos become Fashion-MNIST images as Xiao et al. (2017)
made theirs (trim, fit 28, sharpen, centre, negate, 8-bit gray), and bad uploads are
refused with a clear ImageError."""

import io
import time

import numpy as np
import pytest

PIL = pytest.importorskip("PIL", reason="the serve extra: pip install '.[serve]'")
from PIL import Image  # noqa: E402

from fmnistcpp.datasets import fashion_mnist  # noqa: E402
from fmnistcpp.serving import preprocess as pp  # noqa: E402
from fmnistcpp.serving.samples import photo_like, png_declaring  # noqa: E402


@pytest.fixture(scope="module")
def test_items():
    (_, _), (x, y) = fashion_mnist.load_data()
    return x[:60], y[:60]


def encode(img, fmt="PNG", **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def rect_picture(size=(400, 400), box=(100, 150, 300, 250), bg=(255, 255, 255), ink=(0, 0, 0)):
    a = np.zeros((size[1], size[0], 3), np.uint8) + np.array(bg, np.uint8)
    x0, y0, x1, y1 = box
    a[y0:y1, x0:x1] = ink
    return Image.fromarray(a, "RGB")


def corr(a, b):
    return float(np.corrcoef(a.astype(float).ravel(), b.astype(float).ravel())[0, 1])


def extent(img, level=128):
    rows = np.flatnonzero(img.max(axis=1) >= level)
    cols = np.flatnonzero(img.max(axis=0) >= level)
    return rows[0], rows[-1], cols[0], cols[-1]


# -- each step on a picture whose answer is known --------------------------------------


def test_a_dark_box_on_white_is_trimmed_fitted_centred_and_negated():
    # a 200 x 100 black box: longest edge to 28 -> 28 x 14, centred in 28 x 28
    out = pp.preprocess(encode(rect_picture()))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    top, bottom, left, right = extent(out)
    assert (left, right) == (0, 27)
    assert (top, bottom) == (7, 20)  # 14 rows, margins 7 and 7
    assert out[9:19, 2:26].min() == 255  # black item -> 255 (inside, away from sharpened edges)
    assert out[:6].max() == 0 and out[22:].max() == 0  # background -> 0


def test_where_the_item_is_and_how_big_the_photo_is_do_not_matter():
    a = pp.preprocess(encode(rect_picture((400, 400), (20, 30, 220, 130))))
    b = pp.preprocess(encode(rect_picture((1600, 1200), (700, 500, 1500, 900))))
    c = pp.preprocess(encode(rect_picture((400, 400), (100, 150, 300, 250)), "JPEG", quality=90))
    np.testing.assert_array_equal(a, b)
    # JPEG ringing moves edge pixels a little; the shape and levels stay
    assert np.abs(a.astype(int) - c).mean() < 3


def test_gray_levels_are_negated_relative_to_the_background():
    # Fashion-MNIST's #fdfdfd background became 0; a gray photo background must too
    white = pp.preprocess(encode(rect_picture(bg=(255, 255, 255), ink=(128, 128, 128))))
    gray = pp.preprocess(encode(rect_picture(bg=(230, 230, 230), ink=(115, 115, 115))))
    # 255 * (255 - 128) / 255 = 127 and 255 * (230 - 115) / 230 = 127.5
    assert abs(int(white[14, 14]) - 127) <= 1 and abs(int(gray[14, 14]) - 127) <= 1
    assert white[0].max() == 0 and gray[0].max() == 0


def test_uneven_light_is_background_not_item():
    # a left-to-right lighting gradient of 40 levels: more than the 5% trim threshold
    a = np.asarray(rect_picture(ink=(20, 20, 20)), np.float32)
    a = a - np.linspace(0, 40, a.shape[1])[None, :, None]
    out = pp.preprocess(encode(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))))
    assert extent(out) == (7, 20, 0, 27)
    assert out[:6].max() <= 8  # the darker right side is not read as item


def test_a_light_item_on_black_is_not_inverted():
    # already light-on-black (like Fashion-MNIST itself): stretched, not negated
    out = pp.preprocess(encode(rect_picture(bg=(0, 0, 0), ink=(255, 255, 255))))
    assert out[9:19, 2:26].min() == 255 and out[:6].max() == 0


def test_transparency_is_a_white_background():
    rgba = np.zeros((300, 300, 4), np.uint8)  # transparent black
    rgba[50:250, 100:200] = (30, 30, 30, 255)
    opaque = rect_picture((300, 300), (100, 50, 200, 250), ink=(30, 30, 30))
    np.testing.assert_array_equal(
        pp.preprocess(encode(Image.fromarray(rgba, "RGBA"))), pp.preprocess(encode(opaque))
    )


def test_exif_orientation_is_applied():
    # a phone stores the sensor's pixels and an Orientation tag (6: rotate 90 degrees clockwise)
    upright = rect_picture((300, 400), (50, 40, 120, 360))  # a tall bar, left of centre
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    np.testing.assert_array_equal(
        pp.preprocess(encode(stored, exif=exif.tobytes())), pp.preprocess(encode(upright))
    )


def test_sixteen_bit_grayscale_png():
    a = np.full((200, 200), 65535, np.uint16)
    a[50:150, 80:120] = 0
    out = pp.preprocess(encode(Image.fromarray(a)))
    assert out[5:23, 12:16].min() == 255 and out[:, :3].max() == 0


# -- Fashion-MNIST items, as files and as photo-like pictures ---------------------------


def test_a_dataset_image_uploaded_as_png_comes_back(test_items):
    x, _ = test_items
    c = [corr(pp.preprocess(encode(Image.fromarray(img))), img) for img in x]
    # not identical: the sharpening is applied again and the few items 27 pixels
    # tall are fitted to 28; measured median 0.98, 10th percentile 0.83
    assert np.median(c) > 0.95 and np.percentile(c, 10) > 0.75


@pytest.mark.parametrize("size,fmt", [((600, 800), "JPEG"), ((1200, 900), "WEBP"),
                                      ((3000, 4000), "JPEG")])
def test_photo_like_pictures_come_back_as_their_item(test_items, size, fmt):
    x, _ = test_items
    n = {600: 30, 1200: 15, 3000: 3}[size[0]]
    c = [corr(pp.preprocess(photo_like(img, size=size, seed=i, fmt=fmt)), img)
         for i, img in enumerate(x[:n])]
    # light tinted background, lighting gradient, noise, lossy codec, 20-140x
    # larger than 28: measured medians 0.94-0.95, 10th percentiles 0.84-0.92
    assert np.median(c) > 0.88 and np.percentile(c, 10) > 0.7, c


def test_a_phone_sized_jpeg_is_decoded_small_and_fast():
    data = photo_like(np.full((28, 28), 200, np.uint8), size=(4000, 3000))
    t0 = time.perf_counter()
    img = pp.decode(data)
    elapsed = time.perf_counter() - t0
    assert max(img.size) <= pp.WORK_EDGE
    # JPEG draft mode decodes 12 Mpx at 1/4 scale: ~30 ms here; a full decode
    # and resize takes ~10x longer. 2 s only catches the full path on a busy machine
    assert elapsed < 2.0


# -- bad uploads: ImageError with the HTTP status and what was expected -----------------


def test_a_decompression_bomb_is_refused_before_decoding():
    t0 = time.perf_counter()
    with pytest.raises(pp.ImageError, match="pixels") as e:
        pp.preprocess(png_declaring(100_000, 100_000))
    assert e.value.status == 413
    assert time.perf_counter() - t0 < 1.0  # nothing was decompressed
    with pytest.raises(pp.ImageError, match="at most 10,000") as e:
        pp.preprocess(encode(rect_picture((200, 100))), max_pixels=10_000)
    assert e.value.status == 413


@pytest.mark.parametrize(
    "data,status,message",
    [
        (b"", 400, "empty"),
        (b"this is not a picture at all", 415, "not a PNG, JPEG or WebP"),
        (None, 415, "not a PNG, JPEG or WebP"),  # a GIF
        ("png-truncated", 400, "truncated or corrupt"),
        ("jpeg-truncated", 400, "truncated or corrupt"),
        ("blank", 400, "found no item"),
    ],
)
def test_bad_uploads(data, status, message):
    picture = rect_picture()
    if data is None:
        data = encode(picture, "GIF")
    elif data == "png-truncated":
        data = encode(picture, "PNG")[:300]
    elif data == "jpeg-truncated":
        data = encode(picture, "JPEG")[:600]
    elif data == "blank":
        data = encode(Image.new("RGB", (300, 200), (240, 240, 240)))
    with pytest.raises(pp.ImageError, match=message) as e:
        pp.preprocess(data)
    assert e.value.status == status


def test_model_input_scales_and_shapes_as_training_did():
    images = np.array([np.arange(784).reshape(28, 28) % 256] * 2, np.uint8)
    cnn = pp.model_input(images, (None, 28, 28, 1))
    mlp = pp.model_input(images, (None, 28, 28))
    assert cnn.shape == (2, 28, 28, 1) and mlp.shape == (2, 28, 28)
    assert cnn.dtype == np.float32 and mlp.flags.c_contiguous
    np.testing.assert_array_equal(cnn[..., 0], images.astype(np.float32) / 255.0)
    with pytest.raises(ValueError, match="not a 28 x 28 image"):
        pp.model_input(images, (None, 32, 32, 3))
