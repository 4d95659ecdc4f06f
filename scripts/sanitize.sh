#!/usr/bin/env bash
# Builds fmnistcpp's C++ extension with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs the test files that do not load TensorFlow against it.
#
#   scripts/sanitize.sh                 # build (incremental) + run the default test files
#   scripts/sanitize.sh tests/test_faults.py -k callback    # other pytest arguments
#
# Environment:
#   SAN_BUILD_DIR  CMake build dir       (default /tmp/fmnistcpp-asan-build)
#   SAN_PKG_DIR    package copy dir      (default /tmp/fmnistcpp-asan-pkg)
#   SAN_LOG        sanitizer log prefix  (default /tmp/fmnistcpp-asan-log/san)
#   SAN_KIND       address (default: ASan + UBSan) or thread (ThreadSanitizer, for
#                  tests/test_threads_and_memory.py; OpenMP stays at one thread,
#                  since libgomp is not instrumented and its barriers would be
#                  reported as races)
#
# Needs the package installed once (`pip install --no-build-isolation .`): the
# Python files and the bundled data are taken from that install, and only
# _core*.so is replaced by the sanitized build. See docs/SANITIZERS.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SAN_BUILD_DIR:-/tmp/fmnistcpp-asan-build}"
PKG="${SAN_PKG_DIR:-/tmp/fmnistcpp-asan-pkg}"
LOG="${SAN_LOG:-/tmp/fmnistcpp-asan-log/san}"
PY="${PYTHON:-python}"

# --- 1. build the extension with ASan + UBSan (or TSan) ----------------------------------
KIND="${SAN_KIND:-address}"
if [ "$KIND" = thread ]; then
  SAN_LINK="-fsanitize=thread"
  BUILD="${SAN_BUILD_DIR:-/tmp/fmnistcpp-tsan-build}"
  PKG="${SAN_PKG_DIR:-/tmp/fmnistcpp-tsan-pkg}"
  LOG="${SAN_LOG:-/tmp/fmnistcpp-tsan-log/san}"
else
  SAN_LINK="-fsanitize=address,undefined"
fi
SAN_FLAGS="$SAN_LINK -fno-omit-frame-pointer"
# -O1 -g keeps stacks readable; CMake's Release flags would add -O3 -DNDEBUG after ours.
cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_FLAGS="$SAN_FLAGS" \
  -DCMAKE_SHARED_LINKER_FLAGS="$SAN_LINK" \
  -DPython_EXECUTABLE="$(command -v "$PY")" \
  -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" >/dev/null
cmake --build "$BUILD" --target _core -j"$(nproc)"
SO="$(ls "$BUILD"/_core*.so | head -n1)"

# --- 2. a copy of the installed package with the sanitized _core -------------------------
INSTALLED="$(cd /tmp && "$PY" -c 'import fmnistcpp, os; print(os.path.dirname(fmnistcpp.__file__))')"
rm -rf "$PKG" && mkdir -p "$PKG"
cp -r "$INSTALLED" "$PKG/fmnistcpp"
# the package's Python files from the source tree (so a stale install does not hide fixes)
cp -r "$ROOT"/python/fmnistcpp/. "$PKG/fmnistcpp/"
rm -f "$PKG"/fmnistcpp/_core*.so
cp "$SO" "$PKG/fmnistcpp/"
# the pyproject's rpath ($ORIGIN/../../..) does not reach libdnnl from here;
# fmnistcpp/_dnnl_loader.py preloads it through the onednn-cpu-gomp distribution.

# --- 3. run the tests that do not import TensorFlow (TF + ASan do not mix) ----------------
# tests/conftest.py imports keras (and TensorFlow), hence --noconftest; these files do
# not use its fixtures.
if [ "$#" -eq 0 ]; then
  set -- tests/test_api.py tests/test_bad_inputs.py tests/test_faults.py tests/test_engine_paths.py
fi
mkdir -p "$(dirname "$LOG")" && rm -f "$LOG".*
ASAN_LIB="$(gcc -print-file-name=libasan.so)"
[ "$KIND" = thread ] && ASAN_LIB="$(gcc -print-file-name=libtsan.so)"
# libstdc++ preloaded as well: python does not link it, and without it ASan's
# __cxa_throw interceptor finds no real function ("CHECK failed:
# asan_interceptors.cpp:320 ... real___cxa_throw") at the first C++ throw.
STDCXX_LIB="$(g++ -print-file-name=libstdc++.so)"
cd "$ROOT"
status=0
env PYTHONPATH="$PKG${PYTHONPATH:+:$PYTHONPATH}" \
  LD_PRELOAD="$ASAN_LIB:$STDCXX_LIB" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1:log_path=$LOG:print_summary=1" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:log_path=$LOG" \
  TSAN_OPTIONS="log_path=$LOG:halt_on_error=0:report_signal_unsafe=0" \
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" \
  FMNISTCPP_SANITIZED=1 \
  "$PY" -X faulthandler -m pytest -q -p no:cacheprovider --noconftest "$@" || status=$?

# --- 4. report -----------------------------------------------------------------------------
# sanity: the sanitized module was the one imported
env PYTHONPATH="$PKG" LD_PRELOAD="$ASAN_LIB:$STDCXX_LIB" ASAN_OPTIONS=detect_leaks=0 \
  "$PY" -c 'import fmnistcpp._core as c; print("extension under test:", c.__file__)'
if ls "$LOG".* >/dev/null 2>&1; then
  echo "=== sanitizer reports (${LOG}.*) ==="
  cat "$LOG".*
  echo "sanitize.sh: FINDINGS (see above)"
  exit 1
fi
echo "sanitize.sh: no AddressSanitizer / UndefinedBehaviorSanitizer report (pytest exit $status)"
exit "$status"
