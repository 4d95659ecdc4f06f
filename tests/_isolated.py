"""Runs a piece of Python in a fresh interpreter, so that a crash (heap
corruption, an abort) or a hang fails one test instead of killing or
stalling pytest. The child inherits the environment, so under
scripts/sanitize.sh it runs on the sanitized extension too."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest


def run_isolated(code, timeout=120, env=None):
    """Runs `code`; returns its stdout. Fails the test, with the child's
    output, on a non-zero exit, a death by signal or a timeout."""
    full_env = dict(os.environ)
    # No faulthandler in the child: it gives the main thread an alternate
    # signal stack, which would hide the stack-pointer bug test_signals.py
    # is about.
    full_env.pop("PYTHONFAULTHANDLER", None)
    full_env.update(env or {})
    # A session of its own, so that on a timeout the child and whatever it
    # forked (a hung fork is what test_fork.py looks for) are killed together.
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        out, err = child.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        hung = True
    if hung:
        pytest.fail(f"timed out after {timeout} s (a hang)\nstdout:\n{out}\nstderr:\n{err}")
    if child.returncode != 0:
        pytest.fail(f"exit status {child.returncode}\nstdout:\n{out}\nstderr:\n{err}")
    return out
