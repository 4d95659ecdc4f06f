"""Runs a piece of Python in a fresh interpreter, so that a crash (heap
corruption, an abort) or a hang fails one test instead of killing or
stalling pytest. The child inherits the environment, so under
scripts/sanitize.sh it runs on the sanitized extension too."""

import os
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
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"timed out after {timeout} s (a hang)\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}")
    if done.returncode != 0:
        pytest.fail(f"exit status {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done.stdout
