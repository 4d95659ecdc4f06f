"""Builders for hostile and malformed model files, shared by
tests/test_hostile_files.py and the real-Keras child it runs (so both judge
the very same bytes). Imports neither Keras nor fmnistcpp.

Every file starts as a good one saved by fmnistcpp from `Input(6) ->
Dense(5) -> Dense(3)`; one HDF5 object of the first Dense layer's kernel
(or its group) is then replaced, inside a `.keras` archive's
model.weights.h5, a legacy `.h5` or a `.weights.h5`.
"""

import contextlib
import os
import shutil
import zipfile

import h5py
import numpy as np

SECRET = 1234.5  # every float in the "other local files" an attacker points at
FORMATS = ("keras", "h5", "weights.h5")
WEIGHTS_MEMBER = "model.weights.h5"


def kernel_paths(fmt, f):
    """(dataset path, its group's path) of the first Dense kernel in the
    weights file `f`."""
    if fmt == "h5":
        names = f["model_weights/dense"].attrs["weight_names"]
        name = names[0].decode() if isinstance(names[0], bytes) else str(names[0])
        return f"model_weights/dense/{name}", "model_weights/dense"
    return "layers/dense/vars/0", "layers/dense/vars"


@contextlib.contextmanager
def edit(fmt, src, dst):
    """Copies the good file `src` to `dst` and yields its weights as an
    h5py File open for writing (for .keras: model.weights.h5 extracted,
    re-zipped on exit with the other members unchanged)."""
    src, dst = os.fspath(src), os.fspath(dst)
    if fmt != "keras":
        shutil.copyfile(src, dst)
        with h5py.File(dst, "r+") as f:
            yield f
        return
    with zipfile.ZipFile(src) as z:
        members = {name: z.read(name) for name in z.namelist()}
    scratch = dst + ".member.h5"
    with open(scratch, "wb") as out:
        out.write(members[WEIGHTS_MEMBER])
    with h5py.File(scratch, "r+") as f:
        yield f
    with open(scratch, "rb") as inp:
        members[WEIGHTS_MEMBER] = inp.read()
    os.remove(scratch)
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def weights_bytes(fmt, path):
    """The bytes of the HDF5 weights of a file of format `fmt`."""
    if fmt == "keras":
        with zipfile.ZipFile(path) as z:
            return z.read(WEIGHTS_MEMBER)
    with open(path, "rb") as f:
        return f.read()


def make_secrets(fmt, good, directory):
    """The attacker's targets: an HDF5 file laid out as the good weights
    with every float SECRET, and a raw file of SECRET float32s."""
    h5 = os.path.join(directory, f"secret-{fmt.replace('.', '-')}.h5")
    with open(h5, "wb") as out:
        out.write(weights_bytes(fmt, good))
    with h5py.File(h5, "r+") as f:
        def fill(_, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" and obj.shape:
                obj[...] = SECRET
        f.visititems(fill)
    raw = os.path.join(directory, f"secret-{fmt.replace('.', '-')}.bin")
    np.full(4096, SECRET, dtype="<f4").tofile(raw)
    return h5, raw


def _replace_dataset(f, path, make):
    shape = f[path].shape
    del f[path]
    make(shape)


def external_storage(f, ds, group, h5, raw):
    _replace_dataset(f, ds, lambda shape: f.create_dataset(
        ds, shape=shape, dtype="<f4", external=[(raw, 0, h5py.h5f.UNLIMITED)]))


def external_link(f, ds, group, h5, raw):
    del f[ds]
    f[ds] = h5py.ExternalLink(h5, "/" + ds)


def external_link_group(f, ds, group, h5, raw):
    del f[group]
    f[group] = h5py.ExternalLink(h5, "/" + group)


def soft_link_through_external(f, ds, group, h5, raw):
    f["elsewhere"] = h5py.ExternalLink(h5, "/")
    del f[ds]
    f[ds] = h5py.SoftLink("/elsewhere/" + ds)


def soft_link_inside(f, ds, group, h5, raw):
    # Harmless in itself (the data is the file's own), but Keras refuses
    # every SoftLink, and so does fmnistcpp.
    f.copy(f[ds], "stash")
    del f[ds]
    f[ds] = h5py.SoftLink("/stash")


def virtual(f, ds, group, h5, raw):
    def make(shape):
        layout = h5py.VirtualLayout(shape=shape, dtype="<f4")
        layout[...] = h5py.VirtualSource(h5, "/" + ds, shape=shape)
        f.create_virtual_dataset(ds, layout)
    _replace_dataset(f, ds, make)


# mutation -> the start of the message Keras 3.15 and fmnistcpp give
ATTACKS = {
    "external_storage": (external_storage, "Not allowed: H5 file with external Dataset"),
    "external_link": (external_link, "Not allowed: H5 file with ExternalLink"),
    "external_link_group": (external_link_group, "Not allowed: H5 file with ExternalLink"),
    "soft_link_through_external": (soft_link_through_external,
                                   "Not allowed: H5 file with SoftLink"),
    "soft_link_inside": (soft_link_inside, "Not allowed: H5 file with SoftLink"),
    "virtual": (virtual, "Not allowed: H5 file with virtual Dataset"),
}


def make_hostile(fmt, attack, good, directory):
    """Writes the hostile variant of `good`; returns (path, secret files)."""
    h5, raw = make_secrets(fmt, good, directory)
    suffix = {"keras": ".keras", "h5": ".h5", "weights.h5": ".weights.h5"}[fmt]
    path = os.path.join(directory, f"{attack}{suffix}")
    mutate = ATTACKS[attack][0]
    with edit(fmt, good, path) as f:
        ds, group = kernel_paths(fmt, f)
        mutate(f, ds, group, h5, raw)
    return path, (h5, raw)


def read_kernel_raw(fmt, path, scratch):
    """What plain h5py reads at the kernel's place, from the weights
    written to the file `scratch` (a reader extracting model.weights.h5 to
    disk, as Keras does when memory is short): shows the attack is real.
    (From memory, h5py resolves an ExternalLink back into the same buffer,
    and reading a VDS crashes the interpreter.)"""
    with open(scratch, "wb") as out:
        out.write(weights_bytes(fmt, path))
    with h5py.File(scratch, "r") as f:
        ds, _ = kernel_paths(fmt, f)
        return np.asarray(f[ds][()])


def keras_main():
    """Child-process entry: loads each file of the JSON list
    [[fmt, path], ...] on stdin with real Keras, prints
    {path: [exception class or null, message]} as JSON."""
    import json
    import sys
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    def model():
        return keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                                 keras.layers.Dense(3, activation="softmax")])

    out = {}
    for fmt, path in json.load(sys.stdin):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if fmt == "weights.h5":
                    model().load_weights(path)
                else:
                    keras.models.load_model(path)
            out[path] = [None, ""]
        except Exception as exc:  # noqa: BLE001 - the verdict is the point
            out[path] = [type(exc).__name__, str(exc)]
    print(json.dumps(out))
