"""JSON files of a tuner project: written atomically, read with clear errors."""

from __future__ import annotations

import json
import os

from ..saving.atomic import atomic_path


def write_json(path, obj) -> None:
    """Writes `obj` as JSON to `path` atomically (temp file, fsync, rename)."""
    text = json.dumps(obj, indent=1, sort_keys=False)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def read_json(path, what: str) -> dict:
    """The dict stored in `path`.

    Raises:
        ValueError: the file is not valid JSON or not a JSON object (`what`
            names the file's role in the message).
    """
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(
            f"corrupt {what} file {os.fspath(path)!r}: not valid JSON ({e}). Delete the file "
            "(or its trial directory), or create the tuner with overwrite=True to start afresh."
        ) from None
    if not isinstance(obj, dict):
        raise ValueError(f"corrupt {what} file {os.fspath(path)!r}: expected a JSON object, "
                         f"got {type(obj).__name__}")
    return obj
