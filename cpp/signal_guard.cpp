#include "signal_guard.hpp"

#include <omp.h>
#include <pthread.h>

#include <initializer_list>

namespace fmnistcpp {

namespace {

sigset_t make_async_signals() {
  sigset_t s;
  sigfillset(&s);
  // Synchronous faults must reach their handlers (or kill) at once; a
  // blocked one is fatal anyway. SIGKILL and SIGSTOP cannot be blocked, and
  // glibc drops its own internal signals from any mask it is given.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT, SIGKILL, SIGSTOP})
    sigdelset(&s, sig);
  return s;
}

const sigset_t& async_signals() {
  static const sigset_t s = make_async_signals();
  return s;
}

// The caller's mask of the innermost BlockSignals scope on this thread.
thread_local sigset_t* t_caller_mask = nullptr;
// Set once an OpenMP worker has blocked the signals; it keeps them blocked.
thread_local bool t_worker_blocked = false;

void block_workers() {
  const int threads = omp_get_max_threads();
  if (threads <= 1 || omp_in_parallel()) return;
  // The same team size oneDNN and our loops ask for, so the same pool
  // threads; threads added later are created by this thread while it blocks
  // the signals, and inherit that.
#pragma omp parallel num_threads(threads)
  {
    if (omp_get_thread_num() != 0 && !t_worker_blocked) {
      pthread_sigmask(SIG_BLOCK, &async_signals(), nullptr);
      t_worker_blocked = true;
    }
  }
}

}  // namespace

BlockSignals::BlockSignals() : outer_(t_caller_mask) {
  pthread_sigmask(SIG_BLOCK, &async_signals(), &caller_mask_);
  t_caller_mask = &caller_mask_;
  block_workers();
}

BlockSignals::~BlockSignals() {
  t_caller_mask = outer_;
  pthread_sigmask(SIG_SETMASK, &caller_mask_, nullptr);
}

DeliverSignals::DeliverSignals() {
  if (!t_caller_mask) return;
  open_ = true;
  // Pending signals that the caller's mask lets through are delivered as
  // this call returns, on this thread's own stack.
  pthread_sigmask(SIG_SETMASK, t_caller_mask, nullptr);
}

DeliverSignals::~DeliverSignals() {
  // Python code in the window may have changed the mask itself: that
  // becomes the mask the engine hands back on return.
  if (open_) pthread_sigmask(SIG_BLOCK, &async_signals(), t_caller_mask);
}

bool signal_pending() {
  if (!t_caller_mask) return false;
  sigset_t pending;
  if (sigpending(&pending) != 0) return false;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sigismember(&pending, sig) == 1 && sigismember(&async_signals(), sig) == 1 &&
        sigismember(t_caller_mask, sig) == 0)
      return true;
  return false;
}

}  // namespace fmnistcpp
