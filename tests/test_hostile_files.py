"""Untrusted model files: links and external data that would read other
local files, zip and shape bombs, and malformed weights (issue 15).

Hostile files are made here with h5py and zipfile from good files
fmnistcpp saved (tests/hostile_files.py). The other local files they point
at hold SECRET; the tests check that a clear ValueError comes first, that
SECRET never reaches a model's weights, and (inotify) that those files are
never even opened. Real Keras 3.15 judges the same files in a child
process (this module imports no TensorFlow, so scripts/sanitize.sh can run
it). Bombs are loaded in a child whose address space is capped and whose
peak RSS is measured.
"""

import ctypes
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile

import h5py
import numpy as np
import pytest

import fmnistcpp
import hostile_files as hf

HERE = os.path.dirname(os.path.abspath(__file__))
SANITIZED = bool(os.environ.get("FMNISTCPP_SANITIZED"))


def _model():
    fk = fmnistcpp
    model = fk.Sequential([fk.layers.Input((6,)),
                           fk.layers.Dense(5, activation="relu", name="dense"),
                           fk.layers.Dense(3, activation="softmax", name="dense_1")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _known_weights(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-1, 1, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    return [w.copy() for w in model.get_weights()]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """{fmt: path} of good files fmnistcpp saved, and their weights."""
    directory = tmp_path_factory.mktemp("good")
    model = _model()
    weights = _known_weights(model, 0)
    paths = {"keras": str(directory / "good.keras"), "h5": str(directory / "good.h5"),
             "weights.h5": str(directory / "good.weights.h5")}
    model.save(paths["keras"])
    model.save(paths["h5"])
    model.save_weights(paths["weights.h5"])
    return paths, weights


# --- a kernel-level witness that a file was opened --------------------------------------
class OpenWatch:
    """inotify on some files: `opened()` says whether any process opened or
    read one of them since the watch began (or the last call)."""

    _IN_ACCESS, _IN_OPEN = 0x1, 0x20

    def __init__(self, paths):
        self._libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        for path in paths:
            if self._libc.inotify_add_watch(self.fd, os.fsencode(path),
                                            self._IN_ACCESS | self._IN_OPEN) < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch({path}) failed")

    def opened(self) -> bool:
        seen = False
        while True:
            try:
                seen |= bool(os.read(self.fd, 4096))
            except BlockingIOError:
                return seen

    def close(self):
        os.close(self.fd)


def test_open_watch_sees_an_open(tmp_path):
    # The watch is what proves "no other file was read": it must see reads.
    target = tmp_path / "watched.bin"
    target.write_bytes(b"x" * 16)
    watch = OpenWatch([target])
    try:
        assert not watch.opened()
        with h5py.File(tmp_path / "linker.h5", "w") as f:
            f["x"] = h5py.ExternalLink(str(tmp_path / "missing.h5"), "/")
        assert not watch.opened()
        target.read_bytes()
        assert watch.opened()
    finally:
        watch.close()


# --- links, external storage, virtual datasets ------------------------------------------
CASES = [(fmt, attack) for fmt in hf.FORMATS for attack in hf.ATTACKS]


@pytest.mark.parametrize("fmt,attack", CASES, ids=[f"{f}-{a}" for f, a in CASES])
def test_file_reaching_other_files_is_refused(tmp_path, good, fmt, attack):
    paths, good_weights = good
    path, secrets = hf.make_hostile(fmt, attack, paths[fmt], str(tmp_path))
    prefix = hf.ATTACKS[attack][1]
    raw = hf.read_kernel_raw(fmt, path, str(tmp_path / "scratch.h5"))
    if attack != "soft_link_inside":  # the attack is real: plain h5py returns SECRET
        assert np.all(raw == hf.SECRET)
    model = _model()
    before = _known_weights(model, 1)
    watch = OpenWatch(secrets)
    try:
        if fmt != "weights.h5":
            with pytest.raises(ValueError) as info:
                fmnistcpp.models.load_model(path)
            message = str(info.value)
            assert message.startswith(prefix), message
            assert path in message and "dense" in message
        with pytest.raises(ValueError) as info:
            model.load_weights(path)
        assert str(info.value).startswith(prefix) and path in str(info.value)
        assert not watch.opened(), "a file the model file points to was opened"
    finally:
        watch.close()
    after = model.get_weights()
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)  # nothing half-loaded
    assert not any(np.any(w == hf.SECRET) for w in after)


def test_good_files_still_load(good):
    paths, weights = good
    x = np.random.default_rng(2).random((4, 6), dtype=np.float32)
    for fmt, path in paths.items():
        model = _model()
        model.load_weights(path)
        for a, b in zip(model.get_weights(), weights):
            np.testing.assert_array_equal(a, b)
        if fmt != "weights.h5":
            loaded = fmnistcpp.models.load_model(path)
            np.testing.assert_array_equal(loaded.predict(x, verbose=0),
                                          model.predict(x, verbose=0))


def _clean_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    env["PYTHONPATH"] = HERE  # hostile_files only: the child imports Keras, not fmnistcpp
    return env


def test_real_keras_refuses_the_same_files(tmp_path, good):
    paths, _ = good
    jobs, expected = [], {}
    for fmt, attack in CASES:
        directory = tmp_path / f"{fmt}-{attack}"
        directory.mkdir()
        path, _ = hf.make_hostile(fmt, attack, paths[fmt], str(directory))
        jobs.append([fmt, path])
        expected[path] = hf.ATTACKS[attack][1]
    jobs.extend([fmt, path] for fmt, path in paths.items())
    child = subprocess.run([sys.executable, "-c", "import hostile_files; hostile_files.keras_main()"],
                           input=json.dumps(jobs), capture_output=True, text=True,
                           env=_clean_env(), timeout=600)
    assert child.returncode == 0, child.stderr[-3000:]
    verdicts = json.loads(child.stdout.strip().splitlines()[-1])
    for path in paths.values():
        assert verdicts[path] == [None, ""], verdicts[path]  # Keras loads the good files
    for path, prefix in expected.items():
        kind, message = verdicts[path]
        assert kind == "ValueError" and prefix in message, (path, kind, message)


# --- malformed weights: ValueError naming the file, the layer, what was expected ---------
def _replace(f, ds, data=None, **kwargs):
    del f[ds]
    f.create_dataset(ds, data=data, **kwargs)


def _vars_is_dataset(f, ds, group):
    del f[group]
    f[group] = np.zeros(3, np.float32)


def _weight_is_group(f, ds, group):
    del f[ds]
    f.create_group(ds)


def _unknown_filter(f, ds, group):
    # An optional filter h5py lacks: HDF5 would look for a plugin library to decode it.
    shape = f[ds].shape
    del f[ds]
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk(shape)
    dcpl.set_filter(32004, h5py.h5z.FLAG_OPTIONAL)
    space = h5py.h5s.create_simple(shape)
    h5py.h5d.create(f.id, ds.encode(), h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)


MALFORMED = {
    # name: (mutation, regex the message must match)
    "group_is_a_dataset": (_vars_is_dataset, r"expected an HDF5 group"),
    "weight_is_a_group": (_weight_is_group, r"expected an HDF5 dataset"),
    "compound_dtype": (lambda f, ds, g: _replace(
        f, ds, np.zeros((6, 5), dtype=[("a", "<f4"), ("b", "<i4")])),
        r"dtype .*expected a float array of shape \(6, 5\)"),
    "string_dtype": (lambda f, ds, g: _replace(
        f, ds, np.full((6, 5), "w", dtype=object), dtype=h5py.string_dtype()),
        r"dtype .*expected a float array of shape \(6, 5\)"),
    "bool_dtype": (lambda f, ds, g: _replace(f, ds, np.zeros((6, 5), bool)),
                   r"dtype .*expected a float array"),
    "references": (lambda f, ds, g: _replace(f, ds, shape=(6, 5), dtype=h5py.ref_dtype),
                   r"dtype .*expected a float array"),
    "scalar": (lambda f, ds, g: _replace(f, ds, np.float32(1.0)), r"expects"),
    "null_dataspace": (lambda f, ds, g: _replace(f, ds, h5py.Empty("<f4")),
                       r"expect"),
    "transposed": (lambda f, ds, g: _replace(f, ds, np.zeros((5, 6), np.float32)),
                   r"\(5, 6\).*expects.*\(6, 5\)"),
    "unknown_filter": (_unknown_filter, r"Not allowed: .*filter"),
    "huge_chunks": (lambda f, ds, g: _replace(
        f, ds, np.zeros((6, 5), np.float32), chunks=(1024, 1024), maxshape=(None, None)),
        r"Not allowed: .*chunks of 4\.0 MiB"),
}


@pytest.mark.parametrize("fmt", hf.FORMATS)
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_weights_give_a_clear_error(tmp_path, good, fmt, case):
    paths, _ = good
    mutate, pattern = MALFORMED[case]
    path = str(tmp_path / f"bad-{case}.{fmt}")
    with hf.edit(fmt, paths[fmt], path) as f:
        ds, group = hf.kernel_paths(fmt, f)
        mutate(f, ds, group)
    model = _model()
    before = _known_weights(model, 3)
    loaders = [model.load_weights] + ([fmnistcpp.models.load_model] if fmt != "weights.h5"
                                      else [])
    for load in loaders:
        with pytest.raises(ValueError, match=pattern) as info:
            load(path)
        message = str(info.value)
        assert path in message and "'dense'" in message, message
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def _corrupt_chunk(path):
    """A gzip-compressed kernel whose compressed bytes are then overwritten."""
    with h5py.File(path, "r+") as f:
        ds, _ = hf.kernel_paths("weights.h5", f)
        data = f[ds][()]
        _replace(f, ds, data, chunks=data.shape, compression="gzip")
        info = f[ds].id.get_chunk_info(0)
    with open(path, "r+b") as out:
        out.seek(info.byte_offset)
        out.write(b"\xff" * info.size)


def test_corrupt_compressed_weight_is_named(tmp_path, good):
    paths, _ = good
    path = str(tmp_path / "corrupt.weights.h5")
    with open(paths["weights.h5"], "rb") as inp, open(path, "wb") as out:
        out.write(inp.read())
    _corrupt_chunk(path)
    with pytest.raises(ValueError, match=r"cannot read layer 'dense' weight 0 .*corrupt") \
            as info:
        _model().load_weights(path)
    assert path in str(info.value)


@pytest.mark.parametrize("fmt", hf.FORMATS)
@pytest.mark.parametrize("signature", [b"TREE", b"HEAP", b"SNOD"])
def test_damaged_hdf5_structure_is_named(tmp_path, good, fmt, signature):
    # Broken B-tree / local heap / symbol table nodes: h5py raises RuntimeError
    # from its link calls, which must not leak.
    paths, _ = good
    damaged = hf.weights_bytes(fmt, paths[fmt]).replace(signature, b"XXXX")
    path = str(tmp_path / f"damaged.{fmt}")
    if fmt == "keras":
        _keras_with(paths["keras"], path, **{hf.WEIGHTS_MEMBER: damaged})
    else:
        with open(path, "wb") as out:
            out.write(damaged)
    with pytest.raises(ValueError, match="truncated or corrupt") as info:
        _model().load_weights(path)
    assert path in str(info.value)


LEGACY = {
    "weight_names_not_strings": (
        lambda f: f["model_weights/dense"].attrs.__setitem__("weight_names", np.arange(2)),
        r"'weight_names' of '/model_weights/dense' should list names"),
    "weight_names_point_nowhere": (
        lambda f: f["model_weights/dense"].attrs.__setitem__(
            "weight_names", np.array([b"nowhere/kernel", b"nowhere/bias"])),
        r"weight 'nowhere/kernel' of layer 'dense' is missing"),
    "layer_names_compound": (
        lambda f: f["model_weights"].attrs.__setitem__(
            "layer_names", np.zeros(2, dtype=[("a", "<i4")])),
        r"'layer_names' of '/model_weights' should list names"),
    "model_config_a_number": (lambda f: f.attrs.__setitem__("model_config", 5),
                              r"'model_config' .* should be a string"),
    "model_config_too_deep": (lambda f: f.attrs.__setitem__("model_config", "[" * 50000),
                              r"model_config is not valid JSON"),
    "training_config_a_list": (lambda f: f.attrs.__setitem__("training_config", "[1, 2]"),
                               r"training_config should be a JSON object"),
    "model_weights_a_dataset": (
        lambda f: (f.__delitem__("model_weights"), f.create_dataset("model_weights", data=[1])),
        r"expected an HDF5 group at '/model_weights', found a dataset"),
}


@pytest.mark.parametrize("case", sorted(LEGACY))
def test_malformed_legacy_h5_gives_a_clear_error(tmp_path, good, case):
    paths, _ = good
    mutate, pattern = LEGACY[case]
    path = str(tmp_path / f"{case}.h5")
    with hf.edit("h5", paths["h5"], path) as f:
        mutate(f)
    with pytest.raises(ValueError, match=pattern) as info:
        fmnistcpp.models.load_model(path)
    assert path in str(info.value)


def _patch_zip_member(path, name, flags=None, method=None, size=None):
    """Rewrites fields of `name`'s local header and central-directory entry."""
    data = bytearray(open(path, "rb").read())
    encoded = name.encode()
    cd = data.find(b"PK\x01\x02")
    patched = False
    while cd >= 0:
        name_len = struct.unpack_from("<H", data, cd + 28)[0]
        if bytes(data[cd + 46:cd + 46 + name_len]) == encoded:
            local = struct.unpack_from("<L", data, cd + 42)[0]
            for header, (f_flags, f_method, f_size) in ((cd, (8, 10, 24)), (local, (6, 8, 22))):
                if flags is not None:
                    struct.pack_into("<H", data, header + f_flags, flags)
                if method is not None:
                    struct.pack_into("<H", data, header + f_method, method)
                if size is not None:
                    struct.pack_into("<L", data, header + f_size, size)
            patched = True
        cd = data.find(b"PK\x01\x02", cd + 4)
    assert patched, name
    open(path, "wb").write(bytes(data))


def _keras_with(good_keras, path, **members):
    with zipfile.ZipFile(good_keras) as z:
        content = {n: z.read(n) for n in z.namelist()}
    content.update(members)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in content.items():
            z.writestr(name, data)


@pytest.mark.parametrize("case,pattern", [
    ("encrypted", r"config.json cannot be read .*encrypted"),
    ("unknown_method", r"config.json cannot be read .*compression method"),
    ("too_deep", r"config.json is not valid JSON"),
    ("declared_huge", r"Not allowed: .*'config.json' declares 3\.8 GiB"),
])
def test_odd_keras_archives_give_a_clear_error(tmp_path, good, case, pattern):
    paths, _ = good
    path = str(tmp_path / f"{case}.keras")
    if case == "too_deep":
        _keras_with(paths["keras"], path, **{"config.json": b"[" * 100000})
    else:
        _keras_with(paths["keras"], path)
        _patch_zip_member(path, "config.json", **{
            "encrypted": dict(flags=1), "unknown_method": dict(method=99),
            "declared_huge": dict(size=0xF0000000)}[case])
    with pytest.raises(ValueError, match=pattern) as info:
        fmnistcpp.models.load_model(path)
    assert path in str(info.value)


# --- bombs, loaded in a child with a capped address space ------------------------------
def _deflated(path, members, big_name, big_size):
    """A .keras whose `big_name` member inflates to `big_size` zero bytes
    (stored in a few MB), with `members` stored as they are."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in members.items():
            if name != big_name:
                z.writestr(name, data)
        block = bytes(64 << 20)
        with z.open(big_name, "w", force_zip64=True) as f:
            for _ in range(big_size // len(block)):
                f.write(block)


def _shape_bomb(f, ds, group):
    # 8 GiB declared, nothing written: a few KB on disk.
    del f[ds]
    f.create_dataset(ds, shape=(1 << 17, 1 << 14), dtype="<f4", chunks=(1024, 1024),
                     compression="gzip")


def _chunk_bomb(f, ds, group):
    # The right shape, stored in one 128 MiB gzip chunk of (almost) zeros.
    data = f[ds][()]
    del f[ds]
    f.create_dataset(ds, data=data, chunks=(4096, 8192), maxshape=(None, None),
                     compression="gzip")


@pytest.fixture(scope="module")
def bombs(tmp_path_factory, good):
    paths, _ = good
    directory = tmp_path_factory.mktemp("bombs")
    with zipfile.ZipFile(paths["keras"]) as z:
        members = {n: z.read(n) for n in z.namelist()}
    out = {}
    out["keras_config_1GiB"] = ("model", str(directory / "config_bomb.keras"))
    _deflated(out["keras_config_1GiB"][1], members, "config.json", 1 << 30)
    out["keras_weights_1GiB"] = ("model", str(directory / "weights_bomb.keras"))
    _deflated(out["keras_weights_1GiB"][1], members, hf.WEIGHTS_MEMBER, 1 << 30)
    lying = str(directory / "weights_lying.keras")
    _keras_with(paths["keras"], lying)
    _patch_zip_member(lying, hf.WEIGHTS_MEMBER, size=0xF0000000)
    out["keras_weights_declares_3.8GiB"] = ("model", lying)
    for fmt, op in (("keras", "model"), ("h5", "model"), ("weights.h5", "weights")):
        for name, mutate in (("shape", _shape_bomb), ("chunk", _chunk_bomb)):
            path = str(directory / f"{name}_bomb.{fmt}")
            with hf.edit(fmt, paths[fmt], path) as f:
                mutate(f, *hf.kernel_paths(fmt, f))
            out[f"{fmt}_{name}_bomb"] = (op, path)
    return out


_CHILD = textwrap.dedent("""
    import json, os, resource, sys
    import h5py, zipfile
    import fmnistcpp
    import test_hostile_files as t

    def peak_kib():
        # VmHWM, not ru_maxrss: a child started by vfork/posix_spawn inherits
        # the parent's peak in ru_maxrss (Linux keeps it across execve).
        return int(next(l for l in open("/proc/self/status")
                        if l.startswith("VmHWM")).split()[1])

    jobs, cap = json.load(sys.stdin)
    model = t._model()
    if cap:
        # Room for loading a tiny model, far less than any bomb needs: a
        # missing guard shows up as MemoryError instead of swapping the machine.
        size = int(next(l for l in open("/proc/self/status")
                        if l.startswith("VmSize")).split()[1]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + (512 << 20),) * 2)
    out = {}
    for name, (op, path) in jobs.items():
        before = peak_kib()
        try:
            if op == "model":
                fmnistcpp.models.load_model(path)
            elif op == "weights":
                model.load_weights(path)
            elif op == "raw_zip":  # what a reader without the guard does
                zipfile.ZipFile(path).read("config.json")
            elif op == "raw_h5":
                with h5py.File(path) as f:
                    f[t.hf.kernel_paths("h5", f)[0]][()]
            result = [None, ""]
        except Exception as exc:
            result = [type(exc).__name__, str(exc)]
        out[name] = result + [(peak_kib() - before) / 1024]
    print(json.dumps(out))
""")


def _run_child(jobs, cap):
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])))
    child = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps([jobs, cap]),
                           capture_output=True, text=True, env=env, timeout=600)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


def test_bombs_are_refused_before_allocating(bombs):
    results = _run_child(bombs, cap=not SANITIZED)  # ASan reserves terabytes of address space
    for name, (kind, message, grew_mib) in results.items():
        assert kind == "ValueError", (name, kind, message)
        assert bombs[name][1] in message, (name, message)
        assert "Not allowed" in message or "expects" in message, (name, message)
        # The file and the model are < 1 MiB; a read of a bomb would take >= 128 MiB.
        assert grew_mib < 32, (name, grew_mib)


@pytest.mark.skipif(SANITIZED, reason="needs RLIMIT_AS, which ASan cannot run under")
def test_bombs_are_real_without_the_guards(bombs):
    # The same files read the plain way: the RSS bound and the cap do bite.
    results = _run_child({
        "chunk": ("raw_h5", bombs["h5_chunk_bomb"][1]),
        "shape": ("raw_h5", bombs["h5_shape_bomb"][1]),
        "config": ("raw_zip", bombs["keras_config_1GiB"][1]),
    }, cap=True)
    assert results["chunk"][0] is None and results["chunk"][2] >= 100, results["chunk"]
    assert results["shape"][0] == "MemoryError", results["shape"]
    assert results["config"][0] == "MemoryError", results["config"]
