"""Keras 3's mixed-precision API in fmnistcpp, checked against real Keras:
policy names and dtypes, the global policy and its three spellings,
per-layer policies, configs, .keras / .h5 files both ways, the policies
fmnistcpp refuses (with the alternative named), and the CPU fallback: under
ONEDNN_MAX_CPU_ISA the engine uses AVX512-BF16 without AMX, or warns and
stays float32 without either. Numerical parity: test_mixed_precision_parity.py."""

import json
import zipfile

import h5py
import numpy as np
import pytest

from _isolated import run_isolated

NAMES = ("float32", "mixed_bfloat16", "mixed_float16", "float16", "bfloat16", "float64")


@pytest.fixture(autouse=True)
def float32_after(keras, fmnistcpp):
    """The global policy is process state in both libraries: every test
    leaves it at float32 for the tests after it."""
    yield
    keras.config.set_dtype_policy("float32")
    fmnistcpp.config.set_dtype_policy("float32")


def small_cnn(mod, final_float32=True):
    L = mod.layers
    layers = [L.Input((12, 12, 1)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
              L.Flatten(), L.Dense(6)]
    layers.append(L.Activation("softmax", dtype="float32") if final_float32
                  else L.Activation("softmax"))
    return mod.Sequential(layers)


def layer_policies(model):
    return [(type(l).__name__, l.dtype_policy.name, l.compute_dtype, l.variable_dtype, l.dtype)
            for l in model.layers]


# --- policies ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_policy_objects_match_keras(keras, fmnistcpp, name):
    k, f = keras.mixed_precision.Policy(name), fmnistcpp.mixed_precision.Policy(name)
    assert (f.name, f.compute_dtype, f.variable_dtype, repr(f), f.get_config()) == \
        (k.name, k.compute_dtype, k.variable_dtype, repr(k), k.get_config())
    assert fmnistcpp.DTypePolicy(name) == fmnistcpp.mixed_precision.DTypePolicy(name) == f
    assert f != fmnistcpp.DTypePolicy("float32" if name != "float32" else "mixed_bfloat16")
    assert fmnistcpp.dtype_policies.get(name) == f
    assert fmnistcpp.dtype_policies.get(keras.dtype_policies.serialize(k)) == f


@pytest.mark.parametrize("bad", ["bogus", 3])
def test_bad_policy_names_raise_as_keras(keras, fmnistcpp, bad):
    with pytest.raises(Exception) as k_err:
        keras.mixed_precision.Policy(bad)
    with pytest.raises(type(k_err.value)):
        fmnistcpp.mixed_precision.Policy(bad)
    with pytest.raises(Exception) as k_err:
        keras.config.set_dtype_policy(bad)
    with pytest.raises(type(k_err.value)):
        fmnistcpp.config.set_dtype_policy(bad)


@pytest.mark.parametrize("setter", ["mixed_precision.set_global_policy",
                                    "config.set_dtype_policy", "policy_object"])
def test_global_policy_reaches_new_layers_as_in_keras(keras, fmnistcpp, setter):
    def set_policy(mod):
        if setter == "policy_object":
            mod.mixed_precision.set_global_policy(mod.DTypePolicy("mixed_bfloat16"))
        else:
            group, fn = setter.split(".")
            getattr(getattr(mod, group), fn)("mixed_bfloat16")

    got = {}
    for mod in (keras, fmnistcpp):
        before = small_cnn(mod)
        set_policy(mod)
        after = small_cnn(mod)
        got[mod] = (repr(mod.mixed_precision.global_policy()), repr(mod.config.dtype_policy()),
                    repr(mod.mixed_precision.dtype_policy()), layer_policies(before),
                    layer_policies(after), after.dtype_policy.name)
    assert got[fmnistcpp] == got[keras]
    assert got[fmnistcpp][4][1][1:] == ("mixed_bfloat16", "bfloat16", "float32", "float32")
    assert got[fmnistcpp][4][-1][1] == "float32"  # the float32 softmax kept its own policy


def test_clear_session_resets_the_global_policy_as_keras(keras, fmnistcpp):
    for mod in (keras, fmnistcpp):
        mod.mixed_precision.set_global_policy("mixed_bfloat16")
        mod.backend.clear_session()
    assert fmnistcpp.mixed_precision.global_policy() == fmnistcpp.DTypePolicy("float32")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_per_layer_policies_and_the_setter_match_keras(keras, fmnistcpp):
    got = {}
    for mod in (keras, fmnistcpp):
        a = mod.layers.Dense(3, dtype="mixed_bfloat16")
        b = mod.layers.Conv2D(2, 3, dtype=mod.DTypePolicy("mixed_bfloat16"))
        c = mod.layers.Dense(3, dtype=keras.dtype_policies.serialize(
            keras.DTypePolicy("mixed_bfloat16")))
        d = mod.layers.Dense(3)
        d.dtype_policy = "mixed_bfloat16"
        e = mod.layers.Dense(3, dtype="mixed_bfloat16")
        e.dtype_policy = "float32"
        got[mod] = [(l.dtype_policy.name, l.compute_dtype, l.variable_dtype, l.dtype,
                     l.get_config()["dtype"]) for l in (a, b, c, d, e)]
    assert got[fmnistcpp] == got[keras]


def test_configs_carry_the_policy_and_rebuild_it(keras, fmnistcpp):
    for mod in (keras, fmnistcpp):
        mod.mixed_precision.set_global_policy("mixed_bfloat16")
    k, f = small_cnn(keras), small_cnn(fmnistcpp)
    for kl, fl in zip(k.layers, f.layers):
        assert fl.get_config()["dtype"] == kl.get_config()["dtype"]
        again = type(fl).from_config(fl.get_config())
        assert again.dtype_policy == fl.dtype_policy
    assert f.get_config()["dtype"] == k.get_config()["dtype"]


def test_variables_stay_float32_under_mixed_bfloat16(fmnistcpp):
    fmnistcpp.mixed_precision.set_global_policy("mixed_bfloat16")
    model = small_cnn(fmnistcpp)
    for v in model.weights:
        assert v.dtype == "float32" and v.numpy().dtype == np.float32
    out = model.predict(np.random.default_rng(0).random((5, 12, 12, 1), np.float32), verbose=0)
    assert out.dtype == np.float32


def test_float16_and_other_policies_are_refused_naming_mixed_bfloat16(fmnistcpp):
    for name in ("mixed_float16", "float16"):
        with pytest.raises(NotImplementedError, match="mixed_bfloat16"):
            fmnistcpp.mixed_precision.set_global_policy(name)
        with pytest.raises(NotImplementedError, match="mixed_bfloat16"):
            fmnistcpp.layers.Dense(3, dtype=name)
    with pytest.raises(NotImplementedError, match="float32 variables"):
        fmnistcpp.config.set_dtype_policy("bfloat16")
    with pytest.raises(NotImplementedError, match="float64"):
        fmnistcpp.layers.Conv2D(2, 3, dtype="float64")
    layer = fmnistcpp.layers.Dense(3)
    with pytest.raises(NotImplementedError, match="mixed_bfloat16"):
        layer.dtype_policy = "mixed_float16"
    assert layer.dtype_policy.name == "float32"  # unchanged by the refused setting
    with pytest.raises(NotImplementedError, match="no loss scaling"):
        fmnistcpp.mixed_precision.LossScaleOptimizer(fmnistcpp.optimizers.Adam())
    assert fmnistcpp.mixed_precision.global_policy().name == "float32"


# --- files ---------------------------------------------------------------------------------
def _layer_dtypes(config):
    """Each layer's dtype entry of a saved model config, Keras's sharing ids aside."""
    out = []
    for spec in config["config"]["layers"]:
        d = spec["config"].get("dtype")
        if isinstance(d, dict):
            d = {k: v for k, v in d.items() if k != "shared_object_id"}
        out.append(d)
    return out


def test_saved_files_record_policies_as_keras_writes_them(keras, fmnistcpp, tmp_path):
    for mod in (keras, fmnistcpp):
        mod.mixed_precision.set_global_policy("mixed_bfloat16")
    k, f = small_cnn(keras), small_cnn(fmnistcpp)
    k.save(tmp_path / "k.keras")
    f.save(tmp_path / "f.keras")
    k.save(tmp_path / "k.h5")
    f.save(tmp_path / "f.h5")

    def keras_config(name):
        with zipfile.ZipFile(tmp_path / name) as z:
            return json.loads(z.read("config.json"))

    def h5_config(name):
        with h5py.File(tmp_path / name) as h:
            return json.loads(h.attrs["model_config"])

    assert _layer_dtypes(keras_config("f.keras")) == _layer_dtypes(keras_config("k.keras"))
    assert _layer_dtypes(h5_config("f.h5")) == _layer_dtypes(h5_config("k.h5"))
    assert {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"},
            "registered_name": None} in _layer_dtypes(keras_config("f.keras"))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_files_load_both_ways_with_their_policies(keras, fmnistcpp, tmp_path, suffix):
    x = np.random.default_rng(1).random((8, 12, 12, 1), np.float32)
    for mod in (keras, fmnistcpp):
        mod.mixed_precision.set_global_policy("mixed_bfloat16")
    k, f = small_cnn(keras), small_cnn(fmnistcpp)
    f.set_weights(k.get_weights())
    k.save(tmp_path / ("k" + suffix))
    f.save(tmp_path / ("f" + suffix))
    want_f = f.predict(x, verbose=0)
    for mod in (keras, fmnistcpp):  # loading restores each layer's own policy from the file
        mod.mixed_precision.set_global_policy("float32")

    f_from_k = fmnistcpp.models.load_model(tmp_path / ("k" + suffix))
    k_from_f = keras.models.load_model(tmp_path / ("f" + suffix))
    f_again = fmnistcpp.models.load_model(tmp_path / ("f" + suffix))
    want = [(n, p) for n, p, *_ in layer_policies(k)]
    assert [(n, p) for n, p, *_ in layer_policies(f_from_k)] == want
    assert [(n, p) for n, p, *_ in layer_policies(k_from_f)] == want
    assert [(n, p) for n, p, *_ in layer_policies(f_again)] == want
    # the reloaded model computes as the saved one did (same weights, bf16 kernels)
    np.testing.assert_array_equal(f_again.predict(x, verbose=0), want_f)
    np.testing.assert_array_equal(f_from_k.predict(x, verbose=0), want_f)
    if fmnistcpp._core.bf16_supported():
        assert f_again.layers[0]._core.computes_bfloat16


def test_a_file_with_a_float16_policy_is_refused_clearly(fmnistcpp, tmp_path):
    model = small_cnn(fmnistcpp)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["dtype"]["config"]["name"] = "mixed_float16"
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "f16.keras", "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    with pytest.raises(ValueError, match="mixed_float16.*mixed_bfloat16"):
        fmnistcpp.models.load_model(tmp_path / "f16.keras")


# --- which kernels run: AMX, AVX512-BF16 only, neither ----------------------------------------
_PROBE = """
import warnings, numpy as np, fmnistcpp as keras
from fmnistcpp import _core
warnings.simplefilter("always")
def build(policy):
    L = keras.layers
    return keras.Sequential([L.Input((12, 12, 1)), L.Conv2D(4, 3, activation="relu", dtype=policy),
                             L.Conv2D(32, 3, activation="relu", dtype=policy), L.Flatten(),
                             L.Dense(6, dtype=policy), L.Activation("softmax")])
x = np.random.default_rng(2).random((16, 12, 12, 1), np.float32)
f32 = build("float32")
with warnings.catch_warnings(record=True) as caught:
    bf = build("mixed_bfloat16")
bf.set_weights(f32.get_weights())
a, b = f32.predict(x, verbose=0), bf.predict(x, verbose=0)
print("ISA", _core.cpu_isa(), "SUPPORTED", _core.bf16_supported())
print("BF16", [l._core.computes_bfloat16 for l in bf.layers if l._core is not None])
print("WARN", [str(w.message) for w in caught if "mixed_bfloat16" in str(w.message)])
print("SAME", bool(np.array_equal(a, b)), "MAXDIFF", float(np.abs(a - b).max()))
"""


def _probe(isa=None, verbose=False):
    env = {"ONEDNN_MAX_CPU_ISA": isa} if isa else {}
    if verbose:
        env["ONEDNN_VERBOSE"] = "1"
    out = run_isolated(_PROBE, env=env)
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    return out, lines


def _cpu_flags():
    with open("/proc/cpuinfo") as f:
        return set(next(l for l in f if l.startswith("flags")).split())


def test_without_bf16_kernels_the_engine_warns_and_stays_float32():
    out, lines = _probe("AVX512_CORE")  # a cap below AVX512-BF16; an AVX2 CPU is below it anyway
    want_isa = "avx512_core" if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= _cpu_flags() \
        else "avx2"
    assert lines["ISA"] == f"ISA {want_isa} SUPPORTED False"
    assert lines["BF16"] == "BF16 [False, False, False, False, False]"
    assert "float32" in lines["WARN"] and "AVX512-BF16" in lines["WARN"]
    assert lines["SAME"].startswith("SAME True")  # exactly the float32 model


@pytest.mark.parametrize("isa", ["AVX512_CORE_BF16", None])
def test_bf16_kernels_run_on_avx512_bf16_and_on_amx(isa):
    flags = _cpu_flags()
    if "avx512_bf16" not in flags or (isa is None and "amx_bf16" not in flags):
        pytest.skip("this CPU lacks the ISA the test is about")  # CI machines without it
    out, lines = _probe(isa, verbose=True)
    assert lines["BF16"] == "BF16 [True, True, False, True, False]"  # Conv2D and Dense only
    assert lines["WARN"] == "WARN []"
    # bf16 changes the results: the inputs and weights are rounded to 8 significant bits
    assert lines["SAME"].startswith("SAME False")
    assert float(lines["SAME"].split()[-1]) < 0.02  # probabilities; see the parity tests
    # the bf16 model's primitives (the float32 model's run too, in f32)
    kernels = [l for l in out.splitlines() if l.startswith("onednn_verbose") and ",exec," in l
               and "src_bf16" in l]
    assert any(",convolution," in l for l in kernels)
    assert any(",matmul," in l for l in kernels)  # Dense computes bf16 with matmul (cpp/dense.cpp)
    if isa is None:  # the second convolution (4 -> 32 channels) has an AMX kernel
        assert "ISA avx512_core_amx" in lines["ISA"]
        assert any("amx" in l for l in kernels)
    else:
        assert "ISA avx512_core_bf16" in lines["ISA"]
        assert not any("amx" in l for l in kernels)
        assert any("avx512_core_bf16" in l for l in kernels)
