"""Reading untrusted model files safely.

A weights file is data, but HDF5 can make reading it read *other* files:
an ExternalLink (or a SoftLink through one) opens another HDF5 file, a
dataset with external storage takes its bytes from any file named in its
creation properties, and a virtual dataset (VDS) maps other files'
datasets. A downloaded `.keras` / `.h5` could then copy, say, a private key
into a model's weights. As Keras 3.15 (`saving_lib.safe_get_h5_group` /
`safe_get_h5_dataset`) does, those are refused ("Not allowed: ..."); so is
every SoftLink (Keras refuses them too: one can lead through an
ExternalLink, and Keras-written files have none).

Bombs: a zip member or an HDF5 dataset can store next to nothing and
declare gigabytes. Zip members are read only when their declared size is
within a limit and with the bytes actually read capped; a dataset is read
only after its shape and dtype equal what the model's layer expects, so
nothing larger than the model itself is ever allocated. Keras uses a
4 GiB floor and an expansion ratio; fmnistcpp knows the model before it
reads the weights, so it can be stricter.

Every malformed structure gives a ValueError naming the file, the place in
it (and the layer, through `what`) and what was expected, instead of the
AttributeError / TypeError / KeyError h5py would raise.

Traversal uses h5py's low-level link calls (`links.exists`, `links.get_info`)
one path component at a time, which do not follow the link being looked at;
`Dataset.shape` on a VDS with unlimited mappings opens the source files, so
a dataset's layout is checked before its shape is ever looked at.
"""

from __future__ import annotations

import zipfile

import h5py
import numpy as np

# Config JSON of a Fashion-MNIST model is a few KB to a few hundred KB; 16 MiB
# leaves room for thousands of layers while bounding what json.loads builds.
CONFIG_LIMIT = 16 << 20
# A Keras weights member holds each float32 weight plus at most three
# optimizer slots per weight (centered RMSprop with momentum), and per
# dataset a few KB of HDF5 metadata: 4 copies plus 64 MiB is never exceeded
# by a genuine file.
_WEIGHT_COPIES = 4
_METADATA_ALLOWANCE = 64 << 20
# Filters built into libhdf5 / h5py: gzip, shuffle, fletcher32, szip, nbit,
# scaleoffset, lzf. Any other filter id makes HDF5 search its plugin
# directories and load a shared library to decode the data.
_BUILTIN_FILTERS = {1, 2, 3, 4, 5, 6, 32000}
_MAX_NAMES = 1 << 16  # entries in a layer_names / weight_names attribute
# What h5py raises for a damaged file: OSError mostly, RuntimeError from some
# low-level calls (links, group info), KeyError/ValueError/TypeError elsewhere.
_H5_ERRORS = (KeyError, OSError, RuntimeError, TypeError, ValueError)


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


# --- zip members ----------------------------------------------------------------------
def weights_member_limit(model) -> int:
    """The most a genuine model.weights.h5 for `model` can inflate to."""
    params = model.count_params() if model.built else 0
    return _WEIGHT_COPIES * 4 * params + _METADATA_ALLOWANCE


def read_zip_member(z: zipfile.ZipFile, name: str, limit: int, where: str) -> bytes:
    """The member's bytes, refused before reading if its declared size is
    over `limit`, and cut off (refused) if more than that comes out."""
    info = z.getinfo(name)
    if info.file_size > limit:
        raise ValueError(
            f"Not allowed: {where}: ZIP member '{name}' declares {_size(info.file_size)} "
            f"uncompressed ({_size(info.compress_size)} stored), more than the "
            f"{_size(limit)} a genuine file can need; refusing to load a potential "
            "decompression bomb"
        )
    try:
        with z.open(info, "r") as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        # NotImplementedError: a compression method zipfile lacks;
        # RuntimeError: an encrypted member.
        raise ValueError(
            f"{where} is corrupt: {name} cannot be read from the archive ({exc})"
        ) from exc
    if len(data) > limit:
        raise ValueError(
            f"Not allowed: {where}: ZIP member '{name}' inflates past {_size(limit)} "
            f"(it declares {_size(info.file_size)}); refusing to load a potential "
            "decompression bomb"
        )
    return data


# --- HDF5 traversal -------------------------------------------------------------------
def _link_kind(group, part: str, at: str, path: str):
    """None if `part` does not exist in `group`; raises for any link that
    is not a hard link. Neither call follows the link."""
    name = part.encode("utf-8")
    try:
        if not group.id.links.exists(name):
            return None
        kind = group.id.links.get_info(name).type
    except _H5_ERRORS as exc:
        raise ValueError(f"{at}: cannot read the HDF5 link '{path}' ({exc}); the file is "
                         "truncated or corrupt") from exc
    if kind == h5py.h5l.TYPE_HARD:
        return kind
    label = {h5py.h5l.TYPE_SOFT: "SoftLink", h5py.h5l.TYPE_EXTERNAL: "ExternalLink"}.get(
        kind, f"user-defined link (type {kind})")
    target = ""
    try:  # only for the message: where the link leads
        if kind == h5py.h5l.TYPE_EXTERNAL:
            link = group.get(part, getlink=True)
            target = f" to '{link.path}' in the file '{link.filename}'"
        elif kind == h5py.h5l.TYPE_SOFT:
            target = f" to '{group.get(part, getlink=True).path}'"
    except _H5_ERRORS:
        pass
    raise ValueError(
        f"Not allowed: H5 file with {label}: {at}: '{path}' is {_article(label)} {label}"
        f"{target}; a "
        "weights file must hold its own data (fmnistcpp, like Keras, does not follow links "
        "in model files)"
    )


def _article(word: str) -> str:
    return "an" if word[0] in "AEIOUaeiou" else "a"


def lookup(parent, path: str, where: str, what: str = ""):
    """The Group or Dataset at `path` below `parent`, or None if some
    component is missing. Every component must be a hard link and every
    one but the last a group. `what` (e.g. "layer 'dense' (Dense)") goes
    into the messages."""
    at = f"{where}: {what}" if what else where
    node = parent
    walked = [parent.name.rstrip("/")]
    parts = path.split("/")
    for i, part in enumerate(parts):
        walked.append(part)
        here = "/".join(walked)
        if not part:
            raise ValueError(f"{at}: invalid HDF5 path '{path}' (empty component)")
        if _link_kind(node, part, at, here) is None:
            return None
        try:
            node = node[part]
        except _H5_ERRORS as exc:
            raise ValueError(f"{at}: cannot open '{here}' ({exc}); the file is truncated "
                             "or corrupt") from exc
        if i < len(parts) - 1 and not isinstance(node, h5py.Group):
            raise ValueError(f"{at}: expected an HDF5 group at '{here}', found {_kind(node)}")
    return node


def members(group, where: str) -> list:
    """The names in `group` (links are not followed)."""
    try:
        return list(group.keys())
    except _H5_ERRORS as exc:
        raise ValueError(f"{where}: cannot list '{group.name}' ({exc}); the file is truncated "
                         "or corrupt") from exc


def _full(parent, path: str) -> str:
    return f"{parent.name.rstrip('/')}/{path}"


def _kind(node) -> str:
    if isinstance(node, h5py.Dataset):
        return "a dataset"
    if isinstance(node, h5py.Group):
        return "a group"
    return f"a {type(node).__name__}"


def group(parent, path: str, where: str, what: str) -> h5py.Group:
    """The group at `path`, which must exist (`what` names what it holds)."""
    node = lookup(parent, path, where, what)
    path = _full(parent, path)
    if node is None:
        raise ValueError(f"{where}: {what} is missing: no '{path}' in the file")
    if not isinstance(node, h5py.Group):
        raise ValueError(f"{where}: {what}: expected an HDF5 group at '{path}', found "
                         f"{_kind(node)}")
    return node


def dataset(parent, path: str, where: str, what: str) -> h5py.Dataset:
    """The dataset at `path`, checked to keep its data inside this file."""
    node = lookup(parent, path, where, what)
    path = _full(parent, path)
    if node is None:
        raise ValueError(f"{where}: {what} is missing: no dataset '{path}' in the file "
                         "(truncated file, or saved from a different architecture?)")
    if not isinstance(node, h5py.Dataset):
        raise ValueError(f"{where}: {what}: expected an HDF5 dataset at '{path}', found "
                         f"{_kind(node)}")
    try:
        external = node.external
        virtual = node.is_virtual
        dcpl = node.id.get_create_plist()
        filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
    except _H5_ERRORS as exc:
        raise ValueError(f"{where}: {what}: cannot read the properties of '{path}' ({exc}); "
                         "the file is truncated or corrupt") from exc
    if external:
        files = ", ".join(repr(entry[0]) for entry in external)
        raise ValueError(
            f"Not allowed: H5 file with external Dataset: {where}: {what} at '{path}' keeps "
            f"its data in other files ({files}); fmnistcpp, like Keras, reads weights only "
            "from the model file itself"
        )
    if virtual:
        raise ValueError(
            f"Not allowed: H5 file with virtual Dataset: {where}: {what} at '{path}' is a "
            "virtual dataset mapping other datasets (possibly other files); fmnistcpp, like "
            "Keras, reads weights only from the model file itself"
        )
    unknown = [f for f in filters if f not in _BUILTIN_FILTERS]
    if unknown:
        raise ValueError(
            f"Not allowed: {where}: {what} at '{path}' needs the HDF5 filter(s) {unknown}, "
            "which would be loaded from a plugin library; only HDF5's built-in filters "
            "(gzip, shuffle, fletcher32, szip, nbit, scaleoffset, lzf) are accepted"
        )
    return node


def read_array(ds: h5py.Dataset, shape, where: str, what: str,
               as_dtype=np.float32) -> np.ndarray:
    """The dataset as `as_dtype` (float32), read only if it is a plain
    numeric array of exactly `shape` (so the read allocates no more than the
    model's own weight) stored in chunks no larger than that."""
    shape = tuple(int(n) for n in shape)
    path = ds.name
    try:
        dtype = ds.dtype
        file_shape = ds.shape
    except _H5_ERRORS as exc:
        raise ValueError(f"{where}: {what} at '{path}' has a type or shape h5py cannot "
                         f"read ({exc}); expected a float array of shape {shape}") from exc
    if dtype.kind not in "fiu" or dtype.fields is not None or dtype.subdtype is not None \
            or dtype.itemsize > 8:
        raise ValueError(
            f"{where}: {what} at '{path}' has dtype {dtype!s}; expected a float array of "
            f"shape {shape} (float32 as Keras writes)"
        )
    if file_shape is None:
        raise ValueError(f"{where}: {what} at '{path}' is empty (a null dataspace); "
                         f"expected a float array of shape {shape}")
    if tuple(file_shape) != shape:
        raise ValueError(
            f"{where}: {what} has shape {tuple(file_shape)} in the file, the model expects "
            f"{shape}"
        )
    declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if ds.chunks is not None:
        chunk = int(np.prod(ds.chunks, dtype=np.int64)) * dtype.itemsize
        if chunk > max(4 * declared, 1 << 20):
            raise ValueError(
                f"Not allowed: {where}: {what} at '{path}' is stored in chunks of "
                f"{_size(chunk)} for {_size(declared)} of data; refusing to decompress a "
                "potential chunk bomb"
            )
    out = np.empty(shape, dtype=dtype.newbyteorder("="))
    try:
        if out.size:
            ds.read_direct(out)
    except _H5_ERRORS as exc:
        raise ValueError(f"{where}: cannot read {what} at '{path}' ({exc}); the file is "
                         "truncated or corrupt") from exc
    return out.astype(as_dtype, copy=False)


# --- attributes -----------------------------------------------------------------------
def has_attr(obj, key: str, where: str) -> bool:
    try:
        return key in obj.attrs
    except _H5_ERRORS as exc:
        raise ValueError(f"{where}: the attributes of '{obj.name}' cannot be read ({exc}); "
                         "the file is corrupt") from exc


def _attr(obj, key: str, where: str):
    if not has_attr(obj, key, where):
        return None
    try:
        return obj.attrs[key]
    except _H5_ERRORS as exc:
        raise ValueError(f"{where}: the attribute '{key}' of '{obj.name}' cannot be read "
                         f"({exc}); the file is corrupt") from exc


def text_attr(obj, key: str, where: str):
    """A string attribute (a JSON config), None when absent."""
    value = _attr(obj, key, where)
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "OSU":
        value = value[()]
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{where}: the attribute '{key}' is not UTF-8 text ({exc})") \
                from exc
    if isinstance(value, str):
        return value
    raise ValueError(f"{where}: the attribute '{key}' of '{obj.name}' should be a string "
                     f"(JSON), found {type(value).__name__}")


def names_attr(obj, key: str, where: str) -> list:
    """A list-of-names attribute (`layer_names`, `weight_names`); absent or
    an empty float array (what Keras writes for no names) gives []."""
    value = _attr(obj, key, where)
    if value is None:
        return []
    array = np.asarray(value)
    if array.size == 0:
        return []
    if array.dtype.kind not in "OSU" or array.ndim > 1 or array.size > _MAX_NAMES:
        raise ValueError(
            f"{where}: the attribute '{key}' of '{obj.name}' should list names (strings), "
            f"found {array.dtype} with shape {array.shape}"
        )
    out = []
    for item in array.ravel():
        if isinstance(item, bytes):
            item = item.decode("utf-8", errors="replace")
        if not isinstance(item, str):
            raise ValueError(f"{where}: the attribute '{key}' of '{obj.name}' holds "
                             f"{type(item).__name__} where a name was expected")
        out.append(item)
    return out
