"""Convolution gradients when the backward-weights pass reads its own copies
of the input and output gradient in oneDNN's blocked nChw8c layout (on AVX2
CPUs, for KxK kernels over channels in whole blocks of 8; cpp/conv2d.cpp)
while forward and backward-data stay channels-last. Each case runs in a
child process at the CPU's own ISA and capped at AVX2 (the cap takes the
blocked path on an AVX-512 CPU too), on one and two threads, with oneDNN's
verbose log on, so the test also sees which layout the pass read.

The reference is the convolution's sums in float64: for each tap (i, j) the
kernel gradient is sum_{n,y,x} x_pad[n, s*y + d*i, s*x + d*j, :] outer
dy[n, y, x, :], and the input gradient scatters dy @ k[i, j]^T back onto the
same pixels. float32 sums of up to 32*26*26 products of unit normals:
relative error ~1e-6 (measured at most 2e-6), bounded at 1e-4; a layout
mix-up (channels or pixels read in the wrong order) is off by O(1)."""

import json

import pytest

from _isolated import run_isolated

CHILD = """
import json
import numpy as np
import fmnistcpp as fm
fm.utils.set_num_threads({threads})
L = fm.layers
rng = np.random.default_rng(0)

def keras_padding(size, k, s, d, same):
    extent = (k - 1) * d + 1
    if not same:
        return (size - extent) // s + 1, 0
    out = -(-size // s)
    return out, max((out - 1) * s + extent - size, 0) // 2

def case(name, layer, shape, n=32, relu=False):
    model = fm.Sequential([L.Input(shape), layer])
    model.compile("sgd", "mse")
    x = rng.standard_normal((n,) + shape).astype(np.float32)
    out = model.predict(x, verbose=0)
    y = rng.standard_normal(out.shape).astype(np.float32)
    print("### backward", flush=True)  # the verbose lines after this are the backward passes
    _, (g_kernel, g_bias), g_x = model._loss_and_gradients(x, y, training=False)
    print("### done", flush=True)
    dy = (2 * (out - y) / out.size).astype(np.float64)
    if relu:  # the gradient the convolution sees is ReLU's input gradient
        dy = dy * (out > 0)
    kernel = model.layers[0].get_weights()[0].astype(np.float64)
    x4, dy4, k4 = x.astype(np.float64), dy, kernel
    if x.ndim == 3:  # Conv1D: one row of height 1
        x4, dy4, k4 = x4[:, None], dy4[:, None], k4[None]
    kh, kw = k4.shape[:2]
    s = (1,) * (2 - len(layer.strides)) + tuple(layer.strides)
    d = (1,) * (2 - len(layer.dilation_rate)) + tuple(layer.dilation_rate)
    same = layer.padding == "same"
    (oh, top), (ow, left) = (keras_padding(x4.shape[a + 1], (kh, kw)[a], s[a], d[a], same)
                             for a in range(2))
    assert (oh, ow) == dy4.shape[1:3]
    pad_h = max((oh - 1) * s[0] + (kh - 1) * d[0] + 1 - x4.shape[1] - top, 0)
    pad_w = max((ow - 1) * s[1] + (kw - 1) * d[1] + 1 - x4.shape[2] - left, 0)
    xp = np.pad(x4, ((0, 0), (top, pad_h), (left, pad_w), (0, 0)))
    want_k = np.zeros_like(k4)
    dxp = np.zeros_like(xp)
    for i in range(kh):
        for j in range(kw):
            rows = slice(d[0] * i, d[0] * i + (oh - 1) * s[0] + 1, s[0])
            cols = slice(d[1] * j, d[1] * j + (ow - 1) * s[1] + 1, s[1])
            want_k[i, j] = np.einsum("nyxc,nyxo->co", xp[:, rows, cols], dy4)
            dxp[:, rows, cols] += np.einsum("nyxo,co->nyxc", dy4, k4[i, j])
    want_x = dxp[:, top:top + x4.shape[1], left:left + x4.shape[2]].reshape(x.shape)
    want_b = dy.reshape(-1, dy.shape[-1]).sum(0)
    rel = lambda got, want: float(np.abs(got - want.reshape(got.shape)).max() / np.abs(want).max())
    print(json.dumps([name, rel(g_kernel, want_k), rel(g_bias, want_b), rel(g_x, want_x)]),
          flush=True)

case("conv_8_24", L.Conv2D(24, 3), (26, 26, 8))
case("conv_24_48_relu", L.Conv2D(48, 3, activation="relu"), (12, 12, 24), relu=True)
case("strided_same", L.Conv2D(16, 3, strides=2, padding="same"), (13, 13, 16))
case("dilated", L.Conv2D(8, 3, dilation_rate=2), (15, 15, 8))
case("rectangular", L.Conv2D(16, (5, 2), padding="same"), (11, 9, 8))
case("conv1d", L.Conv1D(16, 3), (40, 8))
case("three_channels", L.Conv2D(8, 3), (14, 14, 3))  # not whole blocks: channels-last
"""

CASES = 7


def _blocked_weight_passes(log: str) -> dict[str, bool]:
    """Case name -> whether its backward-weights convolution read the blocked
    layout (oneDNN's verbose tag aBcd8b for nChw8c), from the child's output."""
    read_blocked, in_backward, seen = {}, False, []
    for line in log.splitlines():
        if line.startswith("### backward"):
            in_backward, seen = True, []
        elif line.startswith("### done"):
            in_backward = False
        elif line.startswith("["):
            read_blocked[json.loads(line)[0]] = any(seen)
        elif in_backward and "convolution" in line and "backward_weights" in line:
            seen.append("src_f32::blocked:aBcd8b" in line)
    return read_blocked


@pytest.mark.parametrize("isa", [None, "AVX2"])
@pytest.mark.parametrize("threads", [1, 2])
def test_weight_gradients_in_either_layout_are_exact(threads, isa):
    env = {"ONEDNN_VERBOSE": "1"}
    if isa:
        env["ONEDNN_MAX_CPU_ISA"] = isa
    out = run_isolated(CHILD.format(threads=threads), timeout=240, env=env)
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("[")]
    assert len(rows) == CASES, out[-2000:]
    for name, kernel, bias, inputs in rows:
        assert max(kernel, bias, inputs) < 1e-4, (name, kernel, bias, inputs)

    blocked = _blocked_weight_passes(out)
    # oneDNN 3.2 has only its reference kernel for a dilated backward-weights
    # pass in nChw8c, so that layer keeps channels-last (its GEMM kernel);
    # either layout is right for it, and its gradients are checked above.
    blocked.pop("dilated")
    # The ISA oneDNN dispatched (its verbose header names it)
    avx2_only = "AVX-512" not in out and "AMX" not in out
    if isa == "AVX2" or avx2_only:
        assert blocked == {name: name != "three_channels" for name, *_ in rows
                           if name != "dilated"}, blocked
    else:
        assert not any(blocked.values()), blocked
