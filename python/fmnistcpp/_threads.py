"""How the engine's OpenMP threads wait, settled before GNU OpenMP starts.

libgomp reads its settings from the environment once, when the library is
loaded (that is, when ``fmnistcpp`` loads oneDNN), and by default a thread
that reaches the end of a parallel region spins for 300 000 rounds (a few
milliseconds) before it sleeps. On an idle machine that saves the wake-up
between oneDNN's many short regions; beside another busy process it burns
the core the partner thread is waiting for, and a 2-thread team became
several times slower than one thread (docs/PERFORMANCE.md, "Threads under
load"). So unless the user chose a wait policy themselves
(``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``: theirs always wins), the
package loads libgomp with a bounded spin of ``SPIN_COUNT`` rounds, and
removes the variable again afterwards so processes the user starts do not
inherit a setting they never made. When libgomp is already loaded (another
library brought it in first) nothing can change it any more, and
``state()`` says so.
"""

from __future__ import annotations

import os

#: Rounds a waiting OpenMP thread spins before it sleeps (libgomp counts
#: about 100 000 per millisecond): long enough to bridge the gaps between
#: the regions of a step on an idle machine, short enough that a waiting
#: thread soon gives its core back to whoever is descheduled.
SPIN_COUNT = 30000
USER_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
_SONAME = "libgomp.so.1"

_state = {"spin_count": None, "reason": "not configured"}
_set_by_us = False


def _libgomp_loaded() -> bool:
    try:
        with open("/proc/self/maps") as f:
            return any(line.rstrip().endswith("/" + _SONAME) or
                       line.rstrip().endswith("/" + _SONAME + ".0.0") for line in f)
    except OSError:
        return False


def before_openmp_loads(environ=None) -> dict:
    """Sets GOMP_SPINCOUNT for libgomp's start unless the user set a wait
    policy or libgomp is already running; returns ``state()``."""
    global _set_by_us
    environ = os.environ if environ is None else environ
    user = [v for v in USER_VARIABLES if v in environ]
    if user:
        _state.update(spin_count=None, reason="user: " + ", ".join(
            f"{v}={environ[v]}" for v in user))
    elif _libgomp_loaded():
        _state.update(spin_count=None, reason="libgomp was loaded before fmnistcpp; "
                                              "its own settings stay")
    else:
        environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
        _set_by_us = True
        _state.update(spin_count=SPIN_COUNT, reason="fmnistcpp's default")
    return state()


def after_openmp_loaded(environ=None) -> None:
    """Takes our GOMP_SPINCOUNT out of the environment again: libgomp has read it."""
    global _set_by_us
    environ = os.environ if environ is None else environ
    if _set_by_us and environ.get("GOMP_SPINCOUNT") == str(SPIN_COUNT):
        del environ["GOMP_SPINCOUNT"]
    _set_by_us = False


def state() -> dict:
    """{'spin_count': the count fmnistcpp gave libgomp or None, 'reason': why}."""
    return dict(_state)
