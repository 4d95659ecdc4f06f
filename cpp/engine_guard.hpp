// What every entry into the engine (fit, evaluate, predict, the gradient
// and layer-output test hooks) holds first, before anything starts OpenMP
// threads or runs oneDNN: see fork_guard.hpp and signal_guard.hpp.
#pragma once

#include "fork_guard.hpp"
#include "signal_guard.hpp"

namespace fmnistcpp {

struct EngineGuard {
  SingleThreadAfterFork fork;  // first: in a fork, BlockSignals' team must have one thread
  BlockSignals signals;
};

}  // namespace fmnistcpp
