// Conv1D: Keras's 1-D convolution over (steps, channels), run as a 2-D
// convolution over one row (conv2d.hpp has the arguments; `padding` may also
// be 'causal': all the padding before the first step). Kernel (k, in /
// groups, filters), which is (1, k, in / groups, filters) in memory.
#include "conv2d.hpp"
#include "layer_registry.hpp"

namespace fmnistcpp {

class Conv1D : public Conv2D {
 public:
  explicit Conv1D(Config config) : Conv2D(std::move(config), 1) {}
};

static RegisterLayer<Conv1D> registered("Conv1D");

}  // namespace fmnistcpp
