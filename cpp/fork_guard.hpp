// A forked child must not wait for OpenMP threads it does not have.
//
// libgomp registers no fork handler. A thread that has run a parallel team
// keeps its thread pool's bookkeeping, and fork() copies that into the child
// without the pool's threads; the child's first parallel region from that
// thread then waits for them forever (predict hangs; Keras and PyTorch hang
// the same way). A pthread_atfork child handler notes which thread forked
// and whether it had run a team through the engine. On that thread, in that
// child, SingleThreadAfterFork runs each engine call on one thread
// (omp_set_num_threads(1) for the call; one-thread regions never touch the
// pool), and the network rebuilds its primitives, which oneDNN plans for the
// thread count they were made with (network.cpp, reserve_batch). Other
// threads of the child start pools of their own and keep every thread.
#pragma once

namespace fmnistcpp {

class SingleThreadAfterFork {
 public:
  SingleThreadAfterFork();
  ~SingleThreadAfterFork();
  SingleThreadAfterFork(const SingleThreadAfterFork&) = delete;
  SingleThreadAfterFork& operator=(const SingleThreadAfterFork&) = delete;

 private:
  int caller_threads_ = 0;  // the thread count to restore, 0 if unchanged
};

// True once per forked process, on the first engine call that will run on
// one thread for that reason (the caller warns with kForkWarning).
bool take_fork_warning();
extern const char* const kForkWarning;

}  // namespace fmnistcpp
