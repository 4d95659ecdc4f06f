"""Tests for fmnistcpp.datasets.fashion_mnist (IDX loader and Kaggle CSV form)."""

import bz2
import gzip
import hashlib
import lzma
import os
import time
import zipfile

import numpy as np
import pytest

from fmnistcpp.datasets import fashion_mnist

NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


@pytest.fixture(scope="module", autouse=True)
def _no_env():
    # a developer's own $FMNISTCPP_DATA must not steer these tests
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("FMNISTCPP_DATA", raising=False)
        yield


@pytest.fixture(scope="module")
def data():
    return fashion_mnist.load_data()


@pytest.fixture(scope="module")
def sources():
    """The four files load_data() finds by default: {name: path}."""
    return fashion_mnist._locate()


def _raw(path):
    with open(path, "rb") as f:
        raw = f.read()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _copy_dir(tmp_path, sources, skip=()):
    """A directory with symlinks to the real files, except those in `skip`."""
    d = tmp_path / "fm"
    d.mkdir()
    for name, src in sources.items():
        if name not in skip:
            os.symlink(src, d / src.name)
    return d


# ---------------------------------------------------------------------------
# load_data


def test_datasets_package_exports_fashion_mnist():
    import fmnistcpp.datasets as ds

    assert ds.fashion_mnist is fashion_mnist
    assert "fashion_mnist" in ds.__all__


def test_shapes_dtypes_layout(data):
    (x_train, y_train), (x_test, y_test) = data
    expected = [
        (x_train, (60000, 28, 28)),
        (y_train, (60000,)),
        (x_test, (10000, 28, 28)),
        (y_test, (10000,)),
    ]
    for arr, shape in expected:
        assert isinstance(arr, np.ndarray)
        assert arr.shape == shape
        assert arr.dtype == np.uint8
        assert arr.flags.c_contiguous


def test_value_ranges(data):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.min() == 0 and x_train.max() == 255
    assert x_test.min() == 0 and x_test.max() == 255
    assert set(np.unique(y_train)) == set(range(10))
    assert set(np.unique(y_test)) == set(range(10))


def test_label_histogram(data):
    (_, y_train), (_, y_test) = data
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), [1000] * 10)


def test_train_mean_pixel(data):
    (x_train, _), _ = data
    mean = x_train.mean(dtype=np.float64)
    assert abs(mean - 72.94) < 0.005
    assert abs(mean / 255 - 0.28604) < 0.00001


def test_known_first_labels(data):
    # the official files' first labels (same as Keras's loader gives)
    (_, y_train), (_, y_test) = data
    np.testing.assert_array_equal(y_train[:10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    np.testing.assert_array_equal(y_test[:10], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])


def test_each_call_returns_fresh_writable_arrays(data):
    (x_train, _), _ = fashion_mnist.load_data()
    assert x_train.flags.writeable
    x_train[0] = 0
    (x_again, _), _ = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_again[0], data[0][0][0])
    assert x_again[0].any()


def test_load_data_is_fast():
    t = time.perf_counter()
    fashion_mnist.load_data()
    assert time.perf_counter() - t < 5.0  # ~0.4 s on the dev machine; loose for CI


def test_hash_computed_once_per_file(monkeypatch):
    fashion_mnist.load_data()  # fills the cache
    calls = []
    real = hashlib.sha256

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fashion_mnist.hashlib, "sha256", counting)
    fashion_mnist.load_data()
    assert calls == []


def test_explicit_path_and_other_compressions(tmp_path, sources, data):
    d = _copy_dir(tmp_path, sources, skip=("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"))
    # one file plain, one xz: both must be accepted
    (d / "train-labels-idx1-ubyte").write_bytes(_raw(sources["train-labels-idx1-ubyte"]))
    (d / "t10k-labels-idx1-ubyte.xz").write_bytes(
        lzma.compress(_raw(sources["t10k-labels-idx1-ubyte"]))
    )
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=d)
    np.testing.assert_array_equal(y_train, data[0][1])
    np.testing.assert_array_equal(y_test, data[1][1])
    np.testing.assert_array_equal(x_test, data[1][0])


def test_bz2_accepted(tmp_path, sources, data):
    d = _copy_dir(tmp_path, sources, skip=("t10k-labels-idx1-ubyte",))
    (d / "t10k-labels-idx1-ubyte.bz2").write_bytes(
        bz2.compress(_raw(sources["t10k-labels-idx1-ubyte"]))
    )
    _, (_, y_test) = fashion_mnist.load_data(str(d))
    np.testing.assert_array_equal(y_test, data[1][1])


def test_corrupted_copy_fails_sha256(tmp_path, sources):
    d = _copy_dir(tmp_path, sources, skip=("t10k-labels-idx1-ubyte",))
    content = bytearray(_raw(sources["t10k-labels-idx1-ubyte"]))
    content[-1] = (content[-1] + 1) % 10  # still a valid label: only the hash can tell
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(content)))
    actual = hashlib.sha256(bytes(content)).hexdigest()
    with pytest.raises(ValueError) as e:
        fashion_mnist.load_data(path=d)
    msg = str(e.value)
    assert "t10k-labels-idx1-ubyte" in msg
    assert SHA256["t10k-labels-idx1-ubyte"] in msg
    assert actual in msg


def test_truncated_file_names_byte_counts(tmp_path, sources):
    d = _copy_dir(tmp_path, sources, skip=("t10k-images-idx3-ubyte",))
    content = _raw(sources["t10k-images-idx3-ubyte"])
    (d / "t10k-images-idx3-ubyte").write_bytes(content[:-100])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.*expected 7840016"):
        fashion_mnist.load_data(path=d)


def test_wrong_magic_number(tmp_path, sources):
    d = _copy_dir(tmp_path, sources, skip=("train-labels-idx1-ubyte",))
    # an images file where the labels file should be
    (d / "train-labels-idx1-ubyte").write_bytes(_raw(sources["t10k-images-idx3-ubyte"])[:1000])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.*0x00000803.*0x00000801"):
        fashion_mnist.load_data(path=d)


def test_damaged_gzip(tmp_path, sources):
    d = _copy_dir(tmp_path, sources, skip=("train-labels-idx1-ubyte",))
    gz = gzip.compress(_raw(sources["train-labels-idx1-ubyte"]))
    (d / "train-labels-idx1-ubyte.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz.*decompress"):
        fashion_mnist.load_data(path=d)


def test_missing_path_raises_file_not_found(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data(path=empty)
    msg = str(e.value)
    assert str(empty) in msg
    for name in NAMES:
        assert name in msg
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        fashion_mnist.load_data(path=tmp_path / "does-not-exist")


def test_partial_directory_lists_only_missing(tmp_path, sources):
    d = _copy_dir(tmp_path, sources, skip=("t10k-images-idx3-ubyte",))
    with pytest.raises(FileNotFoundError) as e:
        fashion_mnist.load_data(path=d)
    msg = str(e.value)
    assert "lacks 1 of the 4" in msg
    assert str(d / "t10k-images-idx3-ubyte") + "{" in msg
    assert str(d / "train-images-idx3-ubyte") not in msg


def test_path_must_be_a_directory(tmp_path):
    f = tmp_path / "file.gz"
    f.write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="directory"):
        fashion_mnist.load_data(path=f)


def test_env_var_honoured(tmp_path, sources, monkeypatch, data):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("FMNISTCPP_DATA", str(empty))
    with pytest.raises(FileNotFoundError, match="FMNISTCPP_DATA"):
        fashion_mnist.load_data()

    d = _copy_dir(tmp_path, sources, skip=("t10k-labels-idx1-ubyte",))
    (d / "t10k-labels-idx1-ubyte").write_bytes(_raw(sources["t10k-labels-idx1-ubyte"]))
    monkeypatch.setenv("FMNISTCPP_DATA", str(d))
    _, (_, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(y_test, data[1][1])

    # an explicit path wins over the variable
    monkeypatch.setenv("FMNISTCPP_DATA", str(empty))
    _, (_, y_test) = fashion_mnist.load_data(path=d)
    np.testing.assert_array_equal(y_test, data[1][1])


def test_shipped_copy_in_repo_matches_hashes():
    """data/ in the checkout holds the four files, gzipped, with the official content."""
    repo_data = os.path.join(os.path.dirname(__file__), os.pardir, "data")
    if not os.path.isdir(repo_data):
        pytest.skip("not running from a source checkout")
    for name in NAMES:
        p = os.path.join(repo_data, name + ".gz")
        assert os.path.isfile(p), p
        assert hashlib.sha256(_raw(p)).hexdigest() == SHA256[name]


# ---------------------------------------------------------------------------
# CSV form


@pytest.fixture(scope="module")
def subset(data):
    (x_train, y_train), _ = data
    idx = np.r_[0:1500, 59000:60000]
    x, y = x_train[idx].copy(), y_train[idx].copy()
    x[0, 0, :4] = [0, 9, 99, 255]  # every digit count
    return x, y


@pytest.mark.parametrize("filename", ["s.csv", "s.zip", "s.csv.gz"])
def test_csv_roundtrip(tmp_path, subset, filename):
    x, y = subset
    p = fashion_mnist.to_csv(x, y, tmp_path / filename)
    assert p.exists()
    x2, y2 = fashion_mnist.load_csv(p)
    assert x2.dtype == np.uint8 and y2.dtype == np.uint8
    assert x2.shape == x.shape and y2.shape == y.shape
    assert x2.flags.c_contiguous
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_csv_format_is_kaggle(tmp_path, subset):
    x, y = subset
    p = fashion_mnist.to_csv(x[:2], y[:2], tmp_path / "k.csv")
    lines = p.read_text().splitlines()
    assert lines[0] == "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    assert len(lines) == 3
    row = [int(v) for v in lines[1].split(",")]
    assert row[0] == y[0] and row[1:] == x[0].ravel().tolist()
    z = fashion_mnist.to_csv(x[:2], y[:2], tmp_path / "fashion-mnist-train.zip")
    with zipfile.ZipFile(z) as zf:
        assert zf.namelist() == ["fashion-mnist-train.csv"]


def test_csv_full_train_set_is_fast(tmp_path, data):
    (x_train, y_train), _ = data
    p = fashion_mnist.to_csv(x_train, y_train, tmp_path / "train.csv")
    t = time.perf_counter()
    x, y = fashion_mnist.load_csv(p)
    elapsed = time.perf_counter() - t
    np.testing.assert_array_equal(x, x_train)
    np.testing.assert_array_equal(y, y_train)
    assert elapsed < 10.0  # ~1.3 s on the dev machine


def _write_rows(path, rows, header=True):
    head = "label," + ",".join(f"pixel{i}" for i in range(1, 785)) + "\n"
    with open(path, "w") as f:
        if header:
            f.write(head)
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")


def _rows(n=4):
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, size=(n, 785)).tolist()
    for i, r in enumerate(rows):
        r[0] = i % 10
    return rows


def test_csv_wrong_column_count(tmp_path):
    rows = _rows()
    rows[2] = rows[2][:-1]  # third data row: 784 columns
    p = tmp_path / "bad.csv"
    _write_rows(p, rows)
    with pytest.raises(ValueError, match=r"bad\.csv: line 4 has 784 columns, expected 785"):
        fashion_mnist.load_csv(p)


def test_csv_header_wrong_column_count(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("label," + ",".join(f"pixel{i}" for i in range(1, 784)) + "\n")
    with pytest.raises(ValueError, match=r"header row has 784 columns, expected 785"):
        fashion_mnist.load_csv(p)


def test_csv_label_out_of_range(tmp_path):
    rows = _rows()
    rows[1][0] = 10
    p = tmp_path / "lab.csv"
    _write_rows(p, rows)
    with pytest.raises(ValueError, match=r"line 3: label is 10, expected an integer in 0\.\.9"):
        fashion_mnist.load_csv(p)


def test_csv_pixel_out_of_range(tmp_path):
    rows = _rows()
    rows[3][5] = 256
    p = tmp_path / "pix.csv"
    _write_rows(p, rows)
    with pytest.raises(ValueError, match=r"line 5: pixel5 is 256, expected an integer in 0\.\.255"):
        fashion_mnist.load_csv(p)


def test_csv_negative_and_fractional_values(tmp_path):
    rows = _rows()
    rows[0][0] = -1
    p = tmp_path / "neg.csv"
    _write_rows(p, rows)
    with pytest.raises(ValueError, match=r"line 2: label is -1"):
        fashion_mnist.load_csv(p)
    rows = _rows()
    rows[1][7] = 3.5
    _write_rows(p, rows)
    with pytest.raises(ValueError, match=r"line 3: pixel7 is 3\.5, expected an integer"):
        fashion_mnist.load_csv(p)


def test_csv_not_numbers(tmp_path):
    rows = _rows()
    rows[2][9] = "abc"
    p = tmp_path / "nan.csv"
    _write_rows(p, rows)
    with pytest.raises(ValueError, match=r"nan\.csv: could not read the numbers"):
        fashion_mnist.load_csv(p)


def test_csv_tolerant_forms(tmp_path):
    rows = _rows(5)
    expected = np.array(rows, np.uint8)
    # no header, CRLF line ends
    p = tmp_path / "crlf.csv"
    p.write_bytes(b"".join((",".join(map(str, r)) + "\r\n").encode() for r in rows))
    x, y = fashion_mnist.load_csv(p)
    np.testing.assert_array_equal(y, expected[:, 0])
    np.testing.assert_array_equal(x.reshape(5, 784), expected[:, 1:])
    # floats written as "12.0" (pandas to_csv of a float frame), quoted header
    p = tmp_path / "float.csv"
    head = ",".join(['"label"'] + [f'"pixel{i}"' for i in range(1, 785)])
    p.write_text(head + "\n" + "\n".join(",".join(f"{v:.1f}" for v in r) for r in rows))
    x, y = fashion_mnist.load_csv(p)
    np.testing.assert_array_equal(y, expected[:, 0])
    np.testing.assert_array_equal(x.reshape(5, 784), expected[:, 1:])


def test_csv_label_not_first_column(tmp_path):
    p = tmp_path / "order.csv"
    p.write_text(",".join([f"pixel{i}" for i in range(1, 785)] + ["label"]) + "\n" + "0," * 784 + "1\n")
    with pytest.raises(ValueError, match="'label' is column 785"):
        fashion_mnist.load_csv(p)


def test_csv_zip_with_two_csvs(tmp_path):
    p = tmp_path / "two.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(ValueError, match=r"exactly one \.csv.*found 2"):
        fashion_mnist.load_csv(p)


def test_csv_empty_and_missing(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(ValueError, match="empty"):
        fashion_mnist.load_csv(p)
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        fashion_mnist.load_csv(tmp_path / "nope.csv")


def test_to_csv_validates(tmp_path, subset):
    x, y = subset
    bad_y = y.copy()
    bad_y[0] = 10
    with pytest.raises(ValueError, match=r"y \(labels\) must be in 0\.\.9"):
        fashion_mnist.to_csv(x, bad_y, tmp_path / "a.csv")
    with pytest.raises(ValueError, match="x must have shape"):
        fashion_mnist.to_csv(x[:, :27], y, tmp_path / "a.csv")
    with pytest.raises(ValueError, match="x must have shape"):
        fashion_mnist.to_csv(x[:-1], y, tmp_path / "a.csv")
    with pytest.raises(ValueError, match=r"x \(pixels\) must be in 0\.\.255"):
        fashion_mnist.to_csv(x.astype(np.int32) + 1, y, tmp_path / "a.csv")
    # (N, 28, 28, 1) images and (N, 1) labels are accepted
    p = fashion_mnist.to_csv(x[:3, :, :, None], y[:3, None], tmp_path / "ok.csv")
    x2, y2 = fashion_mnist.load_csv(p)
    np.testing.assert_array_equal(x2, x[:3])
    np.testing.assert_array_equal(y2, y[:3])
