"""Saves in awkward places (issue 15): a read-only file, a symlink, a save
killed half way, a writable file in a read-only directory, the old file's
mode and owner. Compared with what real Keras 3.15 does (`open(path, "wb")`)
in a child process: this module imports no TensorFlow, so
scripts/sanitize.sh can run it.

Root ignores file permissions, so the permission cases run in a child
without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (`setpriv`) when the tests
run as root: that child is then refused exactly as any other user would be.
"""

import glob
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fmnistcpp
from fmnistcpp.saving import atomic

HERE = os.path.dirname(os.path.abspath(__file__))
EXTS = [".keras", ".h5", ".weights.h5"]
SETPRIV = shutil.which("setpriv")

_PRELUDE = textwrap.dedent("""
    import errno, json, os, sys, warnings
    import numpy as np

    def model(seed):
        import fmnistcpp as fk
        m = fk.Sequential([fk.layers.Input((6,)), fk.layers.Dense(5, name="dense"),
                           fk.layers.Dense(3, name="dense_1")])
        m.compile("adam", "sparse_categorical_crossentropy")
        rng = np.random.default_rng(seed)
        m.set_weights([rng.uniform(-1, 1, w.shape).astype(np.float32)
                       for w in m.get_weights()])
        return m

    def save(m, path):
        (m.save_weights if path.endswith(".weights.h5") else m.save)(path)

    def verdict(fn):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fn()
                out = [None, None, ""]
            except Exception as exc:
                out = [type(exc).__name__, getattr(exc, "errno", None), str(exc)]
        return out + [[str(w.message) for w in caught]]
""")


def _model(seed):
    ns = {}
    exec(_PRELUDE, ns)
    return ns["model"](seed)


def _save(model, path):
    (model.save_weights if str(path).endswith(".weights.h5") else model.save)(str(path))


def _loaded_weights(path):
    model = _model(99)
    model.load_weights(str(path))
    return model.get_weights()


def _assert_holds(path, seed):
    for a, b in zip(_loaded_weights(path), _model(seed).get_weights()):
        np.testing.assert_array_equal(a, b)


def _run_child(body, *, unprivileged, keras=False, env=None):
    """Runs _PRELUDE + body in a child; its last stdout line is JSON."""
    command = [sys.executable, "-c", _PRELUDE + textwrap.dedent(body)]
    if unprivileged and os.geteuid() == 0:
        drop = [SETPRIV, "--bounding-set=-dac_override,-dac_read_search"]
        if SETPRIV is None or subprocess.run([*drop, "true"]).returncode != 0:
            # e.g. a container without CAP_SETPCAP: root cannot be refused anything here
            pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE (setpriv)")
        command = [*drop, *command]
    child_env = dict(os.environ, **(env or {}))
    if keras:  # TensorFlow cannot run with ASan preloaded; the child needs no fmnistcpp
        for key in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONPATH"):
            child_env.pop(key, None)
        child_env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    child = subprocess.run(command, capture_output=True, text=True, env=child_env,
                           timeout=600)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


def _temps(directory):
    return glob.glob(os.path.join(str(directory), f".*{atomic._TAG}-*.tmp"))


# --- a file the user may not write --------------------------------------------------------
def test_read_only_file_is_refused_like_keras(tmp_path):
    paths = [str(tmp_path / f"ro{ext}") for ext in EXTS]
    for path in paths:
        with open(path, "wb") as f:
            f.write(b"old content")
        os.chmod(path, 0o444)
    ours = _run_child(f"""
        m = model(1)
        print(json.dumps({{p: verdict(lambda p=p: save(m, p)) for p in {paths!r}}}))
    """, unprivileged=True)
    theirs = _run_child(f"""
        import keras
        m = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5), keras.layers.Dense(3)])
        print(json.dumps({{p: verdict(lambda p=p: save(m, p)) for p in {paths!r}}}))
    """, unprivileged=True, keras=True)
    for path in paths:
        kind, code, message, _ = ours[path]
        assert (kind, code) == ("PermissionError", 13), ours[path]
        assert path in message
        assert theirs[path][:2] == ["PermissionError", 13], theirs[path]
        with open(path, "rb") as f:
            assert f.read() == b"old content"
    assert _temps(tmp_path) == []


def test_save_over_a_directory_is_refused(tmp_path):
    target = tmp_path / "m.keras"
    target.mkdir()
    with pytest.raises(IsADirectoryError):  # what open(path, "wb") raises, as in Keras
        _model(1).save(str(target))
    assert target.is_dir() and _temps(tmp_path) == []


# --- symlinks -----------------------------------------------------------------------------
@pytest.mark.parametrize("ext", EXTS)
def test_save_through_a_symlink_writes_its_target(tmp_path, ext):
    store, links = tmp_path / "store", tmp_path / "links"
    store.mkdir()
    links.mkdir()
    target = store / f"target{ext}"
    _save(_model(1), target)
    link = links / f"m{ext}"
    link.symlink_to(os.path.join("..", "store", target.name))  # relative, as ln -s makes them
    chained = links / f"chained{ext}"
    chained.symlink_to(link.name)
    _save(_model(2), link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "store", target.name)
    _assert_holds(target, 2)
    _save(_model(3), chained)
    assert chained.is_symlink() and link.is_symlink()
    _assert_holds(target, 3)
    dangling = links / f"new{ext}"
    dangling.symlink_to(store / f"created{ext}")
    _save(_model(4), dangling)  # open(path, "wb") creates a dangling link's target
    assert dangling.is_symlink()
    _assert_holds(store / f"created{ext}", 4)
    assert _temps(store) == [] and _temps(links) == []
    assert sorted(os.listdir(store)) == sorted([target.name, f"created{ext}"])


def test_keras_also_writes_a_symlinks_target(tmp_path):
    # The behaviour above is Keras's: checked on the real thing.
    target = tmp_path / "target.keras"
    link = tmp_path / "m.keras"
    link.symlink_to(target.name)
    _run_child(f"""
        import keras
        m = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
        m.save({str(link)!r})
        print(json.dumps(None))
    """, unprivileged=False, keras=True)
    assert link.is_symlink() and target.is_file() and target.stat().st_size > 0


# --- a save killed half way ---------------------------------------------------------------
@pytest.mark.parametrize("ext", [".keras", ".weights.h5"])
def test_killed_save_leaves_no_temp_file_for_ever(tmp_path, ext):
    path = tmp_path / f"m{ext}"
    _save(_model(1), path)
    original = path.read_bytes()
    child = subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(f"""
        import signal
        from fmnistcpp.saving import keras_archive, weights_h5
        real = weights_h5.write_weights
        def dying(m, f):
            real(m, f)
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # no finally, no atexit: a kill -9
        weights_h5.write_weights = dying
        save(model(2), {str(path)!r})
    """)], capture_output=True, text=True, timeout=600)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert path.read_bytes() == original
    left = _temps(tmp_path)
    assert len(left) == 1 and os.path.basename(left[0]).startswith(f".m{ext}.")  # the kill's
    # What the next save must leave alone: a temp of a live process (this
    # one: a save in another thread), of another file, and other dotfiles.
    live = tmp_path / f"{atomic._temp_prefix(path.name)}abc.tmp"
    other = tmp_path / (os.path.basename(left[0]).replace(f".m{ext}.", f".other{ext}."))
    editor = tmp_path / f".m{ext}.swp"
    for keep in (live, other, editor):
        keep.write_bytes(b"keep")
    _save(_model(3), path)
    _assert_holds(path, 3)
    assert not os.path.exists(left[0])
    assert all(keep.read_bytes() == b"keep" for keep in (live, other, editor))


def test_stale_temp_detection_needs_a_dead_process(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        head = atomic._temp_head("m.keras")
        alive = tmp_path / f"{head}{sleeper.pid}-x1.tmp"
        alive.write_bytes(b"")
        assert atomic.stale_temp_files(str(tmp_path), "m.keras") == []
    finally:
        sleeper.kill()
        sleeper.wait()
    # Reaped: the pid is free now (reuse within this instant is not a concern here).
    assert atomic.stale_temp_files(str(tmp_path), "m.keras") == [str(alive)]


# --- a writable file in a read-only directory ---------------------------------------------
@pytest.mark.parametrize("ext", EXTS)
def test_writable_file_in_read_only_directory_is_saved_in_place(tmp_path, ext):
    directory, scratch = tmp_path / "ro", tmp_path / "scratch"
    directory.mkdir()
    scratch.mkdir()
    path = directory / f"m{ext}"
    _save(_model(1), path)
    os.chmod(path, 0o666)
    os.chmod(directory, 0o555)
    try:
        result = _run_child(f"""
            print(json.dumps(verdict(lambda: save(model(2), {str(path)!r}))))
        """, unprivileged=True, env={"TMPDIR": str(scratch)})
        new_file = _run_child(f"""
            print(json.dumps(verdict(lambda: save(model(2), {str(directory / ('new' + ext))!r}))))
        """, unprivileged=True)
    finally:
        os.chmod(directory, 0o755)
    kind, _, message, caught = result
    assert kind is None, message
    assert any("not atomically" in w and "not writable" in w for w in caught), caught
    _assert_holds(path, 2)
    assert sorted(os.listdir(directory)) == [path.name]
    assert os.listdir(scratch) == []  # the in-memory staging file is gone too
    kind, code, message, _ = new_file
    assert (kind, code) == ("PermissionError", 13) and str(directory) in message, new_file


def test_failed_in_place_write_restores_the_old_file(tmp_path):
    # The in-place write fails half way (EFBIG from RLIMIT_FSIZE): the old
    # bytes must be back, not a truncated or half-new file.
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "m.keras"
    path.write_bytes(b"old content, shorter than any model file")
    os.chmod(path, 0o666)
    os.chmod(directory, 0o555)
    try:
        result = _run_child(f"""
            import resource, signal
            from fmnistcpp.saving import atomic
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            real = atomic._write_in_place
            def limited(*args):
                resource.setrlimit(resource.RLIMIT_FSIZE, (100, resource.RLIM_INFINITY))
                return real(*args)
            atomic._write_in_place = limited
            print(json.dumps(verdict(lambda: save(model(2), {str(path)!r}))))
        """, unprivileged=True, env={"TMPDIR": str(tmp_path)})
    finally:
        os.chmod(directory, 0o755)
    kind, code, message, _ = result
    assert (kind, code) == ("OSError", 27), result  # EFBIG
    assert path.read_bytes() == b"old content, shorter than any model file"


# --- what the replaced file keeps ---------------------------------------------------------
def test_new_file_mode_follows_umask_and_old_mode_is_kept(tmp_path):
    old_mask = os.umask(0o027)
    try:
        _save(_model(1), tmp_path / "new.keras")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE(os.stat(tmp_path / "new.keras").st_mode) == 0o640
    path = tmp_path / "m.keras"
    _save(_model(1), path)
    os.chmod(path, 0o604)
    _save(_model(2), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_owner_is_kept_when_root_saves_a_users_file(tmp_path):
    # Keras (in place) keeps the owner; a rename would hand the file to root.
    path = tmp_path / "m.keras"
    _save(_model(1), path)
    os.chown(path, 65534, 65534)
    _save(_model(2), path)
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    _assert_holds(path, 2)
