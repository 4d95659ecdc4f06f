"""Adam's update against NumPy, weight by weight, where it has special cases.

On CPUs with AVX-512, Adam updates 16 weights at a time from rsqrt / rcp
estimates refined by a Newton step (cpp/optimizer_adam.cpp), with the
estimates kept where the Newton step is undefined (v = 0 above all: a
weight whose input is always 0, as Fashion-MNIST's corner pixels are). The
model here is linear, so the gradient of the mean squared error is known in
closed form and NumPy can take the same step in float64; Keras's own
optimizer tests (tests/test_optimizers.py) cover the steps after it.
"""

import numpy as np
import pytest

import fmnistcpp as keras

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-7


def _numpy_first_adam_step(g):
    m = g * (1 - B1)
    v = g * g * (1 - B2)
    # As Keras: the bias correction from the betas cast to float32 (1 -
    # float32(0.999) is 1.3e-5 off 0.001), the moments' rates in double.
    b1, b2 = float(np.float32(B1)), float(np.float32(B2))
    alpha = LR * np.sqrt(1 - b2) / (1 - b1)
    return (m * alpha) / (np.sqrt(v) + EPS)


# 53 * 8 = 424 weights: 16-wide blocks and a tail of 8; 53 * 16: no tail.
@pytest.mark.parametrize("units", [8, 16])
def test_first_adam_step_matches_numpy_including_weights_with_no_gradient(units):
    rng = np.random.default_rng(0)
    n, features = 64, 53
    # Small integers, weights 0 and n * units a power of two: the float32
    # gradient of the mean squared error, x^T (2 (x w - t) / (n units)), is
    # exact, so NumPy's float64 step from it is the reference.
    x = rng.integers(-3, 4, size=(n, features)).astype(np.float32)
    dead = [0, 1, 17, 52]
    x[:, dead] = 0.0  # their weights get g = 0, so v = 0
    t = rng.integers(-3, 4, size=(n, units)).astype(np.float32)

    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(units, use_bias=False)])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LR, beta_1=B1, beta_2=B2, epsilon=EPS),
        loss="mse",
    )
    model.set_weights([np.zeros((features, units), np.float32)])
    model.fit(x, t, batch_size=n, epochs=1, shuffle=False, verbose=0)
    (w1,) = model.get_weights()

    g = x.astype(np.float64).T @ (-2.0 * t.astype(np.float64) / (n * units))
    step = _numpy_first_adam_step(g)
    assert np.all(np.isfinite(w1))
    # Weights with no gradient are not moved at all (0 / (sqrt(0) + eps) = 0).
    np.testing.assert_array_equal(w1[dead], 0.0)
    live = np.abs(g) > 0
    assert live.sum() > 0.9 * (features - len(dead)) * units
    # w1 = -step. float32 rounds six times on the way (alpha, m, v, sqrt,
    # + eps, the quotient: under 4e-7 relative), the AVX-512 path adds at
    # most 4 ulp (2.4e-7); 1e-6 bounds both. Without its Newton steps the
    # 14-bit estimates would be off by up to 6e-5.
    np.testing.assert_allclose(-w1[live], step[live], rtol=1e-6, atol=0)
