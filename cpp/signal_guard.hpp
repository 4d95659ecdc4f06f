// No signal handler may run on a thread while it executes oneDNN code.
//
// oneDNN 3.2's JIT f32 GEMM kernels (what the inner product behind Dense
// runs, and convolution and matmul paths built on it) point the stack
// pointer into a heap buffer while they run (oneDNN issue 4845; fixed in
// oneDNN 3.11.2 and 3.12 by keeping rsp on the stack). The kernel writes a
// signal's frame just below the interrupted stack pointer, so a handler
// that runs then (CPython's for SIGINT or any signal.signal() handler, a
// profiler's SIGPROF) overwrites heap memory, and glibc later aborts with
// "double free or corruption". An alternate signal stack would only help
// for handlers installed with SA_ONSTACK (CPython's are; other libraries'
// need not be) and on threads that have one (OpenMP workers do not), so
// the engine blocks the signals instead:
//
// - BlockSignals, held for the span of an engine call, blocks every
//   asynchronous signal on the calling thread, and on every OpenMP worker
//   for good (workers inherit the mask of the thread that creates them and
//   never run Python; those that already exist are blocked on entry). A
//   signal sent meanwhile stays pending, or goes to another thread of the
//   process that does not block it (whose handler only sets CPython's flag).
// - Between batches the loop asks signal_pending(), and if so opens a
//   DeliverSignals window around its call into Python: the pending signals
//   reach their handlers there, and PyErr_CheckSignals runs the Python ones
//   (Ctrl-C raises KeyboardInterrupt) before the next batch.
//
// Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) and SIGABRT are
// never blocked: they are synchronous, or the process is dying anyway.
#pragma once

#include <signal.h>

namespace fmnistcpp {

class BlockSignals {
 public:
  BlockSignals();
  ~BlockSignals();
  BlockSignals(const BlockSignals&) = delete;
  BlockSignals& operator=(const BlockSignals&) = delete;

 private:
  sigset_t caller_mask_;        // this thread's mask before (and as callbacks change it)
  sigset_t* outer_ = nullptr;   // the enclosing scope's caller mask, when nested
};

// Within a BlockSignals scope: the caller's own mask for the span of a call
// into Python, so pending signals are delivered on entry. A no-op outside.
class DeliverSignals {
 public:
  DeliverSignals();
  ~DeliverSignals();
  DeliverSignals(const DeliverSignals&) = delete;
  DeliverSignals& operator=(const DeliverSignals&) = delete;

 private:
  bool open_ = false;
};

// True when a signal that the innermost BlockSignals scope holds back is
// pending for this thread or the process. One system call, no lock.
bool signal_pending();

}  // namespace fmnistcpp
