// One lock for all engine state. Layers own primitives and scratch that a
// forward/backward pass uses, and a layer may belong to several networks,
// so two threads computing at once (predict || predict, fit || evaluate)
// would share them. Every pass holds the lock for one batch at a time and
// releases it between batches, where Python callbacks run: a callback may
// call predict on the same model (re-entrant use), and another thread's
// call interleaves at batch boundaries instead of waiting for a whole fit.
// oneDNN already uses every core for one batch, so serialising batches
// costs no throughput. Never hold it while acquiring the GIL.
#pragma once

#include <mutex>

namespace fmnistcpp {

std::mutex& engine_mutex();
using EngineLock = std::lock_guard<std::mutex>;

}  // namespace fmnistcpp
