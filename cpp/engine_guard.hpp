// What every entry into the engine (fit, evaluate, predict, the gradient
// and layer-output test hooks) holds first, before anything starts OpenMP
// threads or runs oneDNN: see signal_guard.hpp.
#pragma once

#include "signal_guard.hpp"

namespace fmnistcpp {

struct EngineGuard {
  BlockSignals signals;
};

}  // namespace fmnistcpp
