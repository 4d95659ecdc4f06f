"""Safe file replacement for every save.

The new content is written to a temp file in the target's directory,
fsynced, then `os.replace`d over the target: a crash, an exception or
Ctrl-C before the replace leaves the old file untouched.

What a user expects from `open(path, "wb")` (what Keras 3 does) still holds:

- a file the user may not write is not replaced: PermissionError, as
  `open` raises it (errno EACCES), checked before anything is written;
- through a symlink the link's target is written, the link stays a link;
- the old file's permission bits and (where allowed) owner are kept.

Temp files are named `.<name>.fmnistcpp-save-<host>-<pid>-<random>.tmp`. A
save killed outright (SIGKILL, power loss) cannot remove its own; the next
save to the same path removes those whose process, on this host, is gone.

A writable file whose directory is not writable (or that cannot be
renamed over, e.g. a bind-mounted file) cannot be replaced atomically;
Keras writes it in place. Here the new content is first produced in full
elsewhere, then written over the old bytes, which are kept in memory and
written back if that write fails; a warning says it was not atomic (a
crash during that last write could still leave the file damaged).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import stat
import tempfile
import warnings

_TAG = ".fmnistcpp-save"
_BASE_CHARS = 100  # of the target's name in a temp name, to stay under NAME_MAX (255)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"


def _temp_head(base: str) -> str:
    return f".{base[:_BASE_CHARS]}{_TAG}-{_host()}-"


def _temp_prefix(base: str) -> str:
    return f"{_temp_head(base)}{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread's save in progress
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, as another user
        return True
    return True


def stale_temp_files(directory: str, base: str) -> list:
    """Temp files this module made for `base` in `directory` whose process
    (on this host) no longer runs."""
    head = _temp_head(base)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    out = []
    for name in names:
        if not (name.startswith(head) and name.endswith(".tmp")):
            continue
        pid = name[len(head):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            out.append(os.path.join(directory, name))
    return out


def _remove_stale(directory: str, base: str) -> None:
    for path in stale_temp_files(directory, base):
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)


def _os_error(exc: OSError, filepath: str, note: str = "") -> OSError:
    """`exc` as `open(filepath, 'wb')` would report it (the user's path,
    not the resolved one); OSError(errno, ...) picks the subclass."""
    return OSError(exc.errno, (exc.strerror or str(exc)) + note, filepath)


def _check_writable(target: str, filepath: str) -> None:
    """Raises what `open(filepath, 'wb')` would for an existing regular
    file, without truncating or changing it."""
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise _os_error(exc, filepath) from None
    os.close(fd)


def _umask() -> int:
    # Read rather than set: os.umask(0) would briefly apply to every thread.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _take_metadata(tmp: str, old) -> None:
    """The old file's owner and mode on the new one (mkstemp made it 0600)."""
    if old is None:
        os.chmod(tmp, 0o666 & ~_umask())
        return
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.chown(tmp, old.st_uid, old.st_gid)
    with contextlib.suppress(OSError):
        os.chmod(tmp, old.st_mode & 0o7777)  # after chown, which clears set-id bits


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_in_place(source: str, target: str, filepath: str, regular: bool,
                    reason: str) -> None:
    """Copies the finished `source` over `target`'s bytes, restoring the
    old bytes if the write fails."""
    with open(source, "rb") as f:
        new = f.read()
    if not regular:  # a FIFO or device: no old content to keep, as open('wb')
        with open(target, "wb") as out:
            out.write(new)
        return
    try:
        out = open(target, "r+b")  # not "wb": the old bytes stay until the new ones are all there
    except OSError as exc:
        raise _os_error(exc, filepath, f" (cannot save in place, because {reason})") from None
    with out:
        old = out.read()
        try:
            out.seek(0)
            out.write(new)
            out.truncate()
            out.flush()
            os.fsync(out.fileno())
        except BaseException as exc:
            try:
                out.seek(0)
                out.write(old)
                out.truncate()
                out.flush()
                os.fsync(out.fileno())
            except BaseException:
                if hasattr(exc, "add_note"):
                    exc.add_note(f"restoring the old content of {filepath!r} failed too")
            raise
    warnings.warn(
        f"{filepath!r} was overwritten in place, not atomically, because {reason}; "
        "a crash during that write could leave it damaged", RuntimeWarning, stacklevel=4)


@contextlib.contextmanager
def _in_place(target: str, filepath: str, regular: bool, reason: str):
    """Yields a temp path outside the target's directory; on normal exit
    its content is written over the target."""
    base = os.path.basename(target)
    scratch = tempfile.gettempdir()
    _remove_stale(scratch, base)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(base), suffix=".tmp", dir=scratch)
    os.close(fd)
    try:
        yield tmp
        _write_in_place(tmp, target, filepath, regular, reason)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(filepath):
    """Yields a temp path to write the new content to; on normal exit it
    replaces `filepath` (see the module docstring), on an exception the
    old file is left as it was and the temp file is deleted."""
    filepath = os.fspath(filepath)
    target = os.path.realpath(filepath)  # through symlinks: write the link's target
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {filepath!r}: directory {directory!r} does not exist")
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:  # e.g. a symlink loop
        raise _os_error(exc, filepath) from None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), filepath)
    regular = old is None or stat.S_ISREG(old.st_mode)
    if old is not None and regular:
        _check_writable(target, filepath)
    base = os.path.basename(target)
    _remove_stale(directory, base)
    if not regular:
        with _in_place(target, filepath, False, "it is not a regular file") as tmp:
            yield tmp
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(base), suffix=".tmp", dir=directory)
    except OSError as exc:
        if old is None or exc.errno not in (errno.EACCES, errno.EPERM):
            raise _os_error(exc, filepath, f" (cannot create a file in the directory "
                                           f"{directory!r})") from None
        fd = None
        reason = f"its directory {directory!r} is not writable ({exc.strerror})"
    if fd is None:
        with _in_place(target, filepath, True, reason) as tmp:
            yield tmp
        return
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        _take_metadata(tmp, old)
        try:
            os.replace(tmp, target)
        except OSError as exc:
            if old is None:
                raise
            # EBUSY: a bind-mounted file; EPERM: a sticky directory and
            # another user's writable file.
            _write_in_place(tmp, target, filepath, True,
                            f"it cannot be replaced by a rename ({exc.strerror})")
            os.unlink(tmp)
            return
        _fsync_dir(directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
