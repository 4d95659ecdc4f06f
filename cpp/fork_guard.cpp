#include "fork_guard.hpp"

#include <omp.h>
#include <pthread.h>

#include <atomic>

namespace fmnistcpp {

const char* const kForkWarning =
    "fmnistcpp: this process was forked from a thread whose OpenMP worker threads had "
    "started, and a fork does not copy them; fmnistcpp computes on one thread here. "
    "For every thread in the child processes, create them before the first fit or "
    "predict, or start them with multiprocessing's 'spawn' or 'forkserver' method.";

namespace {

// This thread has started an OpenMP team through the engine.
thread_local bool t_started_team = false;

// Set in a child forked from a thread with a team: that thread's pool is
// stale there. Written only by the fork handler, while the child has one thread.
std::atomic<bool> g_stale{false};
pthread_t g_stale_thread;
std::atomic<bool> g_warning_due{false};

void on_fork_child() {
  // Only the forking thread exists in the child: whatever held before is moot.
  g_stale_thread = pthread_self();
  g_stale.store(t_started_team);
  g_warning_due.store(t_started_team);
}

const int g_registered = pthread_atfork(nullptr, nullptr, on_fork_child);

bool on_stale_thread() {
  return g_stale.load() && pthread_equal(pthread_self(), g_stale_thread);
}

}  // namespace

SingleThreadAfterFork::SingleThreadAfterFork() {
  (void)g_registered;
  const int threads = omp_get_max_threads();
  if (threads <= 1) return;
  if (on_stale_thread()) {
    caller_threads_ = threads;
    omp_set_num_threads(1);
  } else {
    t_started_team = true;  // the engine's regions start a team from here
  }
}

SingleThreadAfterFork::~SingleThreadAfterFork() {
  if (caller_threads_) omp_set_num_threads(caller_threads_);
}

bool take_fork_warning() {
  return on_stale_thread() && omp_get_max_threads() > 1 && g_warning_due.exchange(false);
}

}  // namespace fmnistcpp
