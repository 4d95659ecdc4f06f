#include "thread_team.hpp"

#include <omp.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>

namespace fmnistcpp {

namespace {

// Long enough for /proc/stat's 10 ms ticks to resolve a tenth of a core on
// two cores; short enough that a neighbour starting mid-epoch costs at most
// a few batches on a team that is too large.
constexpr double kLookInterval = 0.2;
// A look older than this says nothing about now: the next pass starts on
// the full team and looks again.
constexpr double kStale = 2.0;
// A team of one getting less CPU than this (cores) is short of its share.
constexpr double kShortShare = 0.8;

std::atomic<bool> g_adaptive{true};

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// CPU seconds the whole machine spent busy (user, nice, system, irq,
// softirq, steal: steal is the hypervisor giving our vCPUs to someone else).
bool machine_busy_s(double* out) {
  FILE* f = std::fopen("/proc/stat", "re");
  if (!f) return false;
  unsigned long long v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                            &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n < 7) return false;
  static const double tick = 1.0 / double(sysconf(_SC_CLK_TCK));
  *out = double(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * tick;
  return true;
}

double own_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

int usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
}

// What the passes of this process have seen, shared by all of them.
struct Looks {
  std::mutex mutex;
  double wall = -1, busy = 0, own = 0;  // the last look
  double others = -1;                   // cores busy outside this process in the last window
  double decided_at = -1;
  int team = 0;                         // the team the last window suggested
  // Training on lanes (lanes.cpp) pays when a team of one gets clearly less
  // than a core: the scheduler shares the cores per thread (a neighbour in
  // our session, where sched_autogroup does not separate us). When it
  // shares them per session (a second notebook or terminal), one thread
  // already gets its fair core and lanes would only add waiting.
  bool lanes = false;
  int short_windows = 0;                // consecutive one-thread windows below a core
};

Looks& looks() {
  static Looks l;
  return l;
}

// Cores left free -> team, with a margin each way so a team does not flip
// on a tick's worth of noise: grow only when a whole further core looks
// free with room to spare, shrink when clearly less than the team is free.
int choose(double free_cores, int current, int ceiling) {
  int team = current;
  if (free_cores >= current + 0.7) team = int(std::floor(free_cores + 0.3));
  else if (free_cores < current - 0.6) team = int(std::floor(free_cores + 0.6));
  return std::clamp(team, 1, ceiling);
}

// Takes a look when the last is kLookInterval old; returns the team to run.
int look(int ceiling, int current) {
  Looks& l = looks();
  std::lock_guard<std::mutex> guard(l.mutex);
  const double t = now_s();
  if (l.wall >= 0 && t - l.wall < kLookInterval) {
    return (l.team > 0 && t - l.decided_at < kStale) ? std::min(l.team, ceiling) : current;
  }
  double busy;
  if (!machine_busy_s(&busy)) return ceiling;  // no /proc: keep the user's count
  const double own = own_cpu_s();
  if (l.wall >= 0 && t - l.wall < kStale) {
    const double window = t - l.wall;
    l.others = std::max(0.0, ((busy - l.busy) - (own - l.own)) / window);
    const int base = (l.team > 0 && t - l.decided_at < kStale) ? l.team : current;
    const int previous = l.team;
    l.team = choose(double(usable_cpus()) - l.others, std::min(base, ceiling), ceiling);
    l.decided_at = t;
    if (l.team >= ceiling) {
      l.lanes = false;
      l.short_windows = 0;
    } else if (!l.lanes && previous == 1 && l.team == 1) {
      // Two windows in a row, so a pause in Python (a callback, validation
      // set-up) does not count as a short share.
      const double own_rate = (own - l.own) / window;
      l.short_windows = own_rate < kShortShare ? l.short_windows + 1 : 0;
      l.lanes = l.short_windows >= 2;
    }
  }
  l.wall = t;
  l.busy = busy;
  l.own = own;
  return (l.team > 0 && t - l.decided_at < kStale) ? std::min(l.team, ceiling) : current;
}

}  // namespace

bool adaptive_threads() { return g_adaptive.load(); }
void set_adaptive_threads(bool on) { g_adaptive.store(on); }

FitTeamToFreeCores::FitTeamToFreeCores()
    : ceiling_(omp_get_max_threads()),
      active_(g_adaptive.load() && ceiling_ > 1 && !omp_in_parallel()) {
  if (!active_) return;
  const int team = look(ceiling_, ceiling_);
  if (team != ceiling_) omp_set_num_threads(team);
}

FitTeamToFreeCores::~FitTeamToFreeCores() {
  if (active_ && omp_get_max_threads() != ceiling_) omp_set_num_threads(ceiling_);
}

void FitTeamToFreeCores::between_batches() {
  if (!active_) return;
  const int current = omp_get_max_threads();
  const int team = look(ceiling_, current);
  if (team != current) omp_set_num_threads(team);
}

int FitTeamToFreeCores::spare_lanes() const {
  if (!active_ || omp_get_max_threads() >= ceiling_) return 1;
  Looks& l = looks();
  std::lock_guard<std::mutex> guard(l.mutex);
  return l.lanes ? ceiling_ : 1;
}

// A 2-thread fork and join costs about as much as this much work on one
// thread. Measured: seed 002's Dense 128 -> 10 (batch 32, 41 280) and its
// ReLU gradient (4 096) on one thread made the epoch 3-5 % faster; seed
// 000's Dense 100 -> 10 (batch 100, 101 000) was 3 % slower on one.
constexpr int64_t kSmallWork = 65536;

int team_for_work(int64_t work) { return work < kSmallWork ? 1 : omp_get_max_threads(); }

double others_busy_cores() {
  Looks& l = looks();
  std::lock_guard<std::mutex> guard(l.mutex);
  return l.others;
}

bool lanes_wanted() {
  Looks& l = looks();
  std::lock_guard<std::mutex> guard(l.mutex);
  return l.lanes;
}

int last_team_size() {
  Looks& l = looks();
  std::lock_guard<std::mutex> guard(l.mutex);
  return l.team;
}

}  // namespace fmnistcpp
