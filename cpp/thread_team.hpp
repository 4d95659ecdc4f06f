// The OpenMP team fitted to the cores other processes leave free.
//
// oneDNN's primitives and our loops split every step into equal parts, one
// per thread, and wait at the end of each parallel region for the slowest
// part. When another busy process shares the cores, one of our threads is
// often descheduled for a whole scheduler slice, and every region of the
// step (twenty or more in a CNN step) waits for it: on 2 cores, beside a
// 2-thread NumPy loop, seed 000's epoch became 6.5x slower, not the 2x a
// fair share costs. So between batches a pass measures how much CPU the
// rest of the machine used since the last look (/proc/stat minus our own
// getrusage time) and runs on as many threads as there are cores left free,
// at most the thread count the user set; when the machine is quiet again it
// goes back to that count. Team changes happen only between batches, and
// the network rebuilds its primitives for the new count (network.cpp,
// reserve_batch); oneDNN's primitive cache makes a rebuild for a count seen
// before cheap. The result of a step can differ in the last bits between
// team sizes (oneDNN reduces in another order), so a run that must be
// bit-reproducible under a changing load turns this off:
// fmnistcpp.utils.set_adaptive_threads(False).
#pragma once

#include <omp.h>

#include <cstdint>

namespace fmnistcpp {

// Whether passes adapt their team (default true).
bool adaptive_threads();
void set_adaptive_threads(bool on);

// Scope of one pass (fit epoch, evaluate, predict, one streamed batch):
// keeps the caller's thread count as the ceiling, shrinks the team while
// the machine is busy, and gives the caller its own count back at the end.
// Construct it after FlushDenormals (which prepares every thread of the
// full team) so a team that grows again finds its threads prepared.
class FitTeamToFreeCores {
 public:
  FitTeamToFreeCores();
  ~FitTeamToFreeCores();
  FitTeamToFreeCores(const FitTeamToFreeCores&) = delete;
  FitTeamToFreeCores& operator=(const FitTeamToFreeCores&) = delete;
  // Between batches: looks at the machine again when the last look is old
  // enough, and sets the team for the next batch.
  void between_batches();
  // The lanes a training step should run on (lanes.cpp): the caller's
  // thread count while the team is smaller than it and a team of one was
  // seen getting clearly less than a core, else 1 (the team itself).
  int spare_lanes() const;

 private:
  int ceiling_;  // the caller's omp_get_max_threads()
  bool active_;
};

// omp_set_num_threads(n) for a scope, then the count it found.
class ScopedTeam {
 public:
  explicit ScopedTeam(int n) : saved_(omp_get_max_threads()) {
    if (n != saved_) omp_set_num_threads(n);
  }
  ~ScopedTeam() {
    if (omp_get_max_threads() != saved_) omp_set_num_threads(saved_);
  }
  ScopedTeam(const ScopedTeam&) = delete;
  ScopedTeam& operator=(const ScopedTeam&) = delete;

 private:
  int saved_;
};

// The team for one piece of a step (a layer's forward or backward, an
// activation) of about `work` multiply-adds or element operations: the
// calling thread alone when the piece is too small to pay for waking a
// second one, else the current team. A oneDNN primitive must run on the
// team it was created for, so callers create and execute it under the
// same choice (Network::reserve_batch, ActivationOp::prepare).
int team_for_work(int64_t work);

// For tests and benchmarks: the cores the rest of the machine kept busy in
// the last measured window (-1 before the first), and the team the last
// pass chose.
double others_busy_cores();
int last_team_size();
bool lanes_wanted();  // whether the last look chose lanes (spare_lanes)

}  // namespace fmnistcpp
