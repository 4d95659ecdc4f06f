"""Property tests (hypothesis) for the convolution family and the 2-D
reshaping layers over a grid of arguments and input shapes: where Keras 3
computes an output, fmnistcpp builds the layer with the same output shape
(and compute_output_shape agrees) and predicts the same values within 1e-5
with copied weights; where Keras refuses (a ValueError at build, or
TensorFlow failing at the call), fmnistcpp refuses with a ValueError when
the layer is built, never later.

channels_first cases are compared with Keras's channels_last layer on
transposed inputs: TensorFlow 2.21's channels_first convolutions add the
bias along the wrong axis for some shapes (test_conv_layers.py,
test_tensorflow_channels_first_bias_bug)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fmnistcpp as fm
import keras
from test_properties import _known_conv_bug

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ACTIVATIONS = ["linear", "relu", "tanh"]
small = st.integers(1, 4)


def _image(draw, rank=2, max_side=9, max_channels=6):
    sides = tuple(draw(st.integers(1, max_side)) for _ in range(rank))
    return sides + (draw(st.integers(1, max_channels)),)


def _strides_and_dilation(draw, rank, combine):
    strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    if not combine and max(strides) > 1 and max(dilation) > 1:
        # Keras refuses this combination for Conv1D/Conv2D/Conv2DTranspose; the
        # refusal itself is in test_conv_layers' bad-argument cases
        dilation = (1,) * rank
    return strides, dilation


@st.composite
def convolutions(draw):
    name = draw(st.sampled_from(["Conv2D", "Conv1D", "DepthwiseConv2D", "SeparableConv2D",
                                 "Conv2DTranspose"]))
    rank = 1 if name == "Conv1D" else 2
    shape = _image(draw, rank)
    combine = name in ("DepthwiseConv2D", "SeparableConv2D")
    strides, dilation = _strides_and_dilation(draw, rank, combine)
    paddings = ["valid", "same"] + (["causal"] if name == "Conv1D" else [])
    kwargs = dict(kernel_size=tuple(draw(small) for _ in range(rank)), strides=strides,
                  dilation_rate=dilation, padding=draw(st.sampled_from(paddings)),
                  activation=draw(st.sampled_from(ACTIVATIONS)), use_bias=draw(st.booleans()))
    if name in ("Conv2D", "Conv1D"):
        groups = draw(st.sampled_from([g for g in range(1, shape[-1] + 1) if shape[-1] % g == 0]))
        kwargs.update(filters=groups * draw(st.integers(1, 3)), groups=groups)
    elif name == "DepthwiseConv2D":
        kwargs.update(depth_multiplier=draw(st.integers(1, 3)))
    elif name == "SeparableConv2D":
        kwargs.update(filters=draw(st.integers(1, 4)), depth_multiplier=draw(st.integers(1, 3)))
    else:
        kwargs.update(filters=draw(st.integers(1, 4)))
        if draw(st.booleans()):
            kwargs["output_padding"] = tuple(draw(st.integers(0, s - 1)) for s in strides)
    return name, shape, kwargs


def _sides(draw, max_value):
    """Keras's padding/cropping forms: an int, two ints, or two pairs."""
    form = draw(st.sampled_from(["int", "pair", "pairs"]))
    v = st.integers(0, max_value)
    if form == "int":
        return draw(v)
    if form == "pair":
        return (draw(v), draw(v))
    return ((draw(v), draw(v)), (draw(v), draw(v)))


@st.composite
def reshapings(draw):
    name = draw(st.sampled_from(["ZeroPadding2D", "Cropping2D", "UpSampling2D",
                                 "GlobalMaxPooling2D", "MaxPooling1D", "AveragePooling1D"]))
    if name == "ZeroPadding2D":
        return name, _image(draw), dict(padding=_sides(draw, 3))
    if name == "Cropping2D":  # sometimes cropping everything, which Keras refuses
        return name, _image(draw), dict(cropping=_sides(draw, 4))
    if name == "UpSampling2D":
        return name, _image(draw), dict(size=(draw(small), draw(small)),
                                        interpolation=draw(st.sampled_from(["nearest",
                                                                            "bilinear"])))
    if name == "GlobalMaxPooling2D":
        return name, _image(draw), dict(keepdims=draw(st.booleans()))
    strides = draw(st.one_of(st.none(), st.integers(1, 3)))
    return name, _image(draw, 1, max_side=12), dict(pool_size=draw(small), strides=strides,
                                                    padding=draw(st.sampled_from(["valid",
                                                                                  "same"])))


def _channels_first_shape(shape):
    return (shape[-1],) + tuple(shape[:-1])


def _to_channels_first(a):
    return np.moveaxis(a, -1, 1)


def _keras_output(name, shape, kwargs, x, weights):
    """Keras's channels_last output on x with `weights` (None: its own), or
    the exception Keras raises (at build or when TensorFlow runs it). An
    empty output counts as a refusal: Keras's Conv2DTranspose returns one
    for e.g. a width-1 input, kernel 2 and output_padding=0 with 'same'
    (output width (1 - 1) * stride + 2 % 2 + 0 = 0), where fmnistcpp says
    why it cannot compute it."""
    try:
        model = keras.Sequential([keras.layers.Input(shape), getattr(keras.layers, name)(**kwargs)])
        if weights is not None:
            model.set_weights(weights)
        out = np.asarray(model(x, training=False))
    except Exception as e:  # noqa: BLE001 - any refusal counts as one
        return None, e
    if out.size == 0:
        return None, ValueError(f"empty output of shape {out.shape}")
    return model, out


def _check(name, shape, kwargs, channels_first, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3,) + tuple(shape)).astype(np.float32)
    keras.utils.set_random_seed(seed)
    km, out = _keras_output(name, shape, kwargs, x, None)
    f_shape, f_kwargs = shape, dict(kwargs)
    if channels_first:
        f_shape, f_kwargs["data_format"] = _channels_first_shape(shape), "channels_first"
    if km is None:
        try:
            fm.Sequential([fm.layers.Input(f_shape), getattr(fm.layers, name)(**f_kwargs)])
        except ValueError:
            return "refused"
        raise AssertionError(f"Keras refuses {name}{kwargs} on {shape} ({out!r:.200}); "
                             "fmnistcpp built it")
    weights = [rng.normal(scale=0.3, size=w.shape).astype(np.float32) for w in km.get_weights()]
    _, expected = _keras_output(name, shape, kwargs, x, weights)
    layer = getattr(fm.layers, name)(**f_kwargs)
    model = fm.Sequential([fm.layers.Input(f_shape), layer])
    model.set_weights(weights)
    xf = _to_channels_first(x) if channels_first else x
    if channels_first and expected.ndim == x.ndim:  # an image comes out: channels first too
        expected = _to_channels_first(expected)
    assert model.output_shape[1:] == expected.shape[1:]
    assert tuple(layer.compute_output_shape((None,) + f_shape))[1:] == expected.shape[1:]
    got = model.predict(xf, verbose=0)
    # float32 sums of <= 200 products of O(1) values: round-off ~1e-6
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    return "computed"


@SETTINGS
@given(convolutions(), st.booleans(), st.integers(0, 2**16))
def test_convolutions_match_keras(config, channels_first, seed):
    name, shape, kwargs = config
    if name == "Conv2D" and _known_conv_bug(shape, kwargs):
        return  # TensorFlow's garbage, see test_properties.py
    _check(name, shape, kwargs, channels_first, seed)


@SETTINGS
@given(reshapings(), st.booleans(), st.integers(0, 2**16))
def test_reshaping_and_pooling_layers_match_keras(config, channels_first, seed):
    _check(*config, channels_first, seed)


def test_the_grid_reaches_both_outcomes():
    # not vacuous: the strategies produce layers Keras computes and layers it
    # refuses (too-large kernels, cropping everything)
    outcomes = set()

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(st.one_of(convolutions(), reshapings()), st.integers(0, 2**16))
    def collect(config, seed):
        name, shape, kwargs = config
        if not (name == "Conv2D" and _known_conv_bug(shape, kwargs)):
            outcomes.add(_check(name, shape, kwargs, False, seed))

    collect()
    assert outcomes == {"computed", "refused"}
