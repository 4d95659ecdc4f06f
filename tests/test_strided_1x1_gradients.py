"""Strided 1x1 convolutions over few channels: the gradients oneDNN 3.2's
jit_1x1 backward-weights kernel gets wrong, hangs on or crashes in (oneDNN
issue #6035; cpp/onednn_workarounds.hpp). Each case runs in a child process
(a crash or a hang fails the test instead of killing the run), on one and
two threads, at the CPU's own ISA and capped at AVX2 (the AVX2 kernel is the
one that hung; capping reaches it on an AVX-512 CPU too).

The reference is exact: a 1x1 convolution with stride s reads the pixels
(s*y, s*x), so its kernel gradient is sum_{n,y,x} x[n, s*y, s*x, :] outer
dy[n, y, x, :], its input gradient dy @ k^T on those pixels and zero
elsewhere; a transposed one writes those pixels, the same sums with x and
dy swapped. float32 sums of up to 32*16*16 products: relative error ~1e-6
(measured at most 2.4e-6), bounded at 1e-4; the broken kernel was off by
O(1) (oneDNN's report: 615x) when it did not hang."""

import json

import pytest

from _isolated import run_isolated

CHILD = """
import json, sys
import numpy as np
import fmnistcpp as fm
fm.utils.set_num_threads({threads})
L = fm.layers
rng = np.random.default_rng(0)

def case(name, layer, shape, n=32):
    model = fm.Sequential([L.Input(shape), layer])
    model.compile("sgd", "mse")
    x = rng.standard_normal((n,) + shape).astype(np.float32)
    out = model.predict(x, verbose=0)
    y = rng.standard_normal(out.shape).astype(np.float32)
    _, (g_kernel, g_bias), g_x = model._loss_and_gradients(x, y, training=False)
    dy = 2 * (out - y) / out.size  # mean squared error over every entry
    kernel = model.layers[0].get_weights()[0]
    s = layer.strides
    picked = (slice(None),) + tuple(slice(None, None, si) for si in s)  # the 1x1 taps
    spatial = "hw"[:len(s)]
    want_x = np.zeros_like(x)
    if isinstance(layer, L.Conv2DTranspose):  # kernel (1, 1, filters, in)
        want_k = np.einsum(f"n{{spatial}}c,n{{spatial}}f->fc", x, dy[picked])[None, None]
        want_x = np.einsum(f"n{{spatial}}f,fc->n{{spatial}}c", dy[picked], kernel[0, 0])
    else:  # kernel (1[, 1], in, filters)
        want_k = np.einsum(f"n{{spatial}}i,n{{spatial}}o->io", x[picked], dy)
        want_k = want_k.reshape(kernel.shape)
        want_x[picked] = np.einsum(f"n{{spatial}}o,io->n{{spatial}}i", dy,
                                   kernel.reshape(kernel.shape[-2:]))
    want_b = dy.reshape(-1, dy.shape[-1]).sum(0)
    rel = lambda got, want: float(np.abs(got - want).max() / np.abs(want).max())
    print(json.dumps([name, rel(g_kernel, want_k), rel(g_bias, want_b), rel(g_x, want_x)]),
          flush=True)

case("conv2d_rgb", L.Conv2D(16, 1, strides=2), (28, 28, 3))
case("conv2d_gray", L.Conv2D(8, 1, strides=2, padding="same"), (27, 27, 1))
case("conv2d_report", L.Conv2D(8, 1, strides=2), (32, 32, 4))  # oneDNN's report's shape
case("conv2d_one_axis", L.Conv2D(8, 1, strides=(1, 3)), (10, 12, 5))
case("conv1d", L.Conv1D(8, 1, strides=2), (64, 4))
case("transpose", L.Conv2DTranspose(2, 1, strides=2), (16, 16, 4))
case("transpose_same", L.Conv2DTranspose(6, 1, strides=2, padding="same"), (15, 15, 8))
"""


@pytest.mark.parametrize("isa", [None, "AVX2"])
@pytest.mark.parametrize("threads", [1, 2])
def test_strided_1x1_gradients_are_exact(threads, isa):
    out = run_isolated(CHILD.format(threads=threads), timeout=180,
                       env={"ONEDNN_MAX_CPU_ISA": isa} if isa else None)
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("[")]
    assert len(rows) == 7, out
    for name, kernel, bias, inputs in rows:
        assert max(kernel, bias, inputs) < 1e-4, (name, kernel, bias, inputs)
