"""Print the install prefix of the oneDNN wheels (onednn-devel-cpu-gomp).

The wheels put headers, libdnnl.so and the CMake package config under the
environment's prefix (their files are recorded as ../../../include/...),
which is not the site-packages CMake would search. Asking the installed
distribution where its files are works the same in pip's isolated build
environment, a venv, or a plain install.
"""
import importlib.metadata as md
import pathlib
import sys

dist = md.distribution("onednn-devel-cpu-gomp")
for f in dist.files or ():
    if f.name == "dnnl-config.cmake":
        print(pathlib.Path(dist.locate_file(f)).resolve().parent.as_posix())
        sys.exit(0)
sys.exit("onednn-devel-cpu-gomp is installed but has no dnnl-config.cmake")
