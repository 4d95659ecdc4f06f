"""Makes libdnnl.so.3 (from the onednn-cpu-gomp wheel) loadable by _core.

The extension's RPATH points at <prefix>/lib, where the wheel installs the
library for ordinary and virtual-environment installs. For other layouts
(`pip install --user`, a --target directory, an editable build) we find
the file through the installed distribution's record and load it with
RTLD_GLOBAL before importing _core, so the dynamic loader finds the soname
already present. No LD_LIBRARY_PATH is needed either way.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import pathlib

_SONAME = "libdnnl.so.3"


def _candidates():
    for dist_name in ("onednn-cpu-gomp", "onednn_cpu_gomp"):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in dist.files or ():
            if f.name == _SONAME:
                yield pathlib.Path(dist.locate_file(f)).resolve()
        return


def preload() -> None:
    """Loads oneDNN globally if the loader would not find it by itself."""
    try:
        ctypes.CDLL(_SONAME, mode=ctypes.RTLD_GLOBAL)
        return
    except OSError:
        pass
    for path in _candidates():
        if path.exists():
            ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            return
    # Fall through: importing _core then raises the loader's own message,
    # which names the missing library.
