"""Tests of benchmarks/: the FLOP counter, the oneDNN SGEMM peak, the report
writer and a tiny end-to-end run of compare_frameworks.py (fmnistcpp and
Keras only; PyTorch is imported only inside its own worker and is not a
test dependency)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH)

import compare_frameworks as cf  # noqa: E402
import flops  # noqa: E402
import gemm_peak  # noqa: E402
import profile_layers  # noqa: E402


# --- FLOP counting ------------------------------------------------------------------------


def test_flops_hand_computed_cnn():
    specs = flops.layer_specs(
        [("Conv2D", {"filters": 4, "kernel_size": (3, 3), "padding": "valid"}),
         ("MaxPooling2D", {"pool_size": (2, 2)}),
         ("Dropout", {"rate": 0.5}),
         ("Flatten", {}),
         ("Dense", {"units": 5})],
        (8, 8, 2))
    assert [s["out"] for s in specs] == [(6, 6, 4), (3, 3, 4), (3, 3, 4), (36,), (5,)]
    # conv: 6*6 outputs * 4 filters * 3*3*2 taps = 2592 MACs; dense: 36*5 = 180 MACs
    f = flops.train_flops(specs)
    assert f["layers"] == [2 * 2592, 0, 0, 0, 2 * 180]
    assert f["forward"] == 2 * (2592 + 180)
    # 3x forward, minus the first layer's backward-data pass
    assert f["train"] == 3 * 2 * (2592 + 180) - 2 * 2592


def test_flops_seed_models():
    specs, cfg = flops.model_specs("seed002-mlp")
    assert cfg["batch_size"] == 32
    f = flops.train_flops(specs)
    assert f["forward"] == 2 * (784 * 128 + 128 * 10)
    assert f["train"] == 3 * f["forward"] - 2 * 784 * 128
    specs, _ = flops.model_specs("seed000-cnn")
    macs = 26 * 26 * 8 * 9 + 24 * 24 * 24 * 9 * 8 + 22 * 22 * 48 * 9 * 24 + 23232 * 100 + 1000
    assert flops.train_flops(specs)["forward"] == 2 * macs


def test_layer_specs_rejects_unknown_layer():
    with pytest.raises(ValueError, match="LSTM"):
        flops.layer_specs([("LSTM", {})], (28, 28))


# --- SGEMM through ctypes -----------------------------------------------------------------


def test_sgemm_matches_numpy():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((37, 53), dtype=np.float32)
    b = rng.standard_normal((53, 29), dtype=np.float32)
    c = gemm_peak.sgemm(a, b)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)
    # alpha, beta and accumulation into c
    c0 = np.ones((37, 29), dtype=np.float32)
    gemm_peak.sgemm(a, b, c0, alpha=2.0, beta=0.5)
    np.testing.assert_allclose(c0, 2 * (a @ b) + 0.5, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError):
        gemm_peak.sgemm(a, a)


def test_gemm_measure_is_plausible():
    r = gemm_peak.measure(512, runs=3)
    assert r["n"] == 512 and len(r["seconds"]) == 3
    # a 2020s CPU core does between 0.5 and 5000 GFLOP/s on a 512^3 SGEMM
    assert 0.5 < r["gflops"] < 5000
    assert r["gflops_max"] >= r["gflops"]


def test_gemm_peak_subprocess():
    res = gemm_peak.peak(threads=[1], sizes=[256], runs=2)
    assert set(res) == {"1"}
    assert res["1"]["threads"] == 1 and res["1"]["n"] == 256 and res["1"]["gflops"] > 0.1


# --- report writer ------------------------------------------------------------------------


def _run(fw, model, epoch_s, ips, rss, acc, n_train=1000, batch=32):
    return {"framework": fw, "model": model, "seed": 0, "epochs": 3, "batch_size": batch,
            "n_train": n_train, "n_test": 500, "epoch_s": [9.0, epoch_s, epoch_s],
            "median_epoch_s": epoch_s, "predict_batch": cf.PREDICT_BATCH[fw],
            "predict_s": [500 / ips] * 3, "predict_ips": ips, "peak_rss_mb": rss,
            "test_accuracy": acc, "version": "x"}


def _synthetic():
    return {
        "command": "python benchmarks/compare_frameworks.py --synthetic",
        "machine": {"cpu": "Test CPU", "cores": 2, "affinity": 2, "loadavg_start": (0, 0, 0),
                    "versions": {"fmnistcpp": "0.1.0"}},
        "settings": {"threads": 2, "epochs": 3, "repeats": 2, "n_train": 1000, "n_test": 500},
        "gemm_peak": {"1": {"threads": 1, "gflops": 50.0, "n": 1024},
                      "2": {"threads": 2, "gflops": 100.0, "n": 1024}},
        "flops": {"m1": {"forward": 10 ** 6, "train": 3 * 10 ** 6},
                  "m2": {"forward": 10 ** 5, "train": 2 * 10 ** 5}},
        "runs": [
            _run("fmnistcpp", "m1", 1.0, 4000, 300, 0.90),
            _run("keras", "m1", 3.0, 1000, 900, 0.88),
            _run("torch", "m1", 2.0, 2000, 600, 0.89),
            _run("fmnistcpp", "m1", 3.0, 2000, 320, 0.92),  # repeat 2: median of 1 and 3
            _run("keras", "m1", 3.0, 1000, 950, 0.90),
            _run("torch", "m1", 2.0, 2000, 610, 0.91),
            _run("fmnistcpp", "m2", 0.1, 10 ** 5, 200, 0.80),
            _run("keras", "m2", 1.0, 10 ** 4, 800, 0.81),
            {"framework": "torch", "model": "m2", "seed": 0, "error": "boom"},
        ],
    }


def test_summary_and_writer(tmp_path):
    result = _synthetic()
    paths = cf.write_outputs(result, str(tmp_path), "test")
    rows = {(r["model"], r["framework"]): r for r in result["summary"]}
    assert set(rows) == {("m1", "fmnistcpp"), ("m1", "keras"), ("m1", "torch"),
                         ("m2", "fmnistcpp"), ("m2", "keras")}
    f1 = rows[("m1", "fmnistcpp")]
    assert f1["median_epoch_s"] == 2.0 and f1["peak_rss_mb"] == 320 and f1["repeats"] == 2
    assert f1["test_accuracy"] == pytest.approx(0.91)
    # 3e6 FLOPs * 1000 images / 2 s = 1.5 GFLOP/s = 1.5 % of the 2-thread peak (100)
    assert f1["train_gflops"] == pytest.approx(1.5)
    assert f1["pct_gemm_peak"] == pytest.approx(1.5)
    assert rows[("m1", "keras")]["speedup_epoch"] == pytest.approx(1.5)
    assert rows[("m1", "torch")]["speedup_epoch"] == pytest.approx(1.0)
    assert rows[("m1", "keras")]["speedup_predict"] == pytest.approx(3.0)
    assert rows[("m2", "keras")]["speedup_epoch"] == pytest.approx(10.0)

    md = open(paths["md"]).read()
    assert "| m2 | Keras 3 / TF | 32 | 1.000 | 10.00x |" in md
    assert "| m1 | PyTorch eager | 32 | 2.000 | 1.00x |" in md
    assert "| 1000 |" in md  # torch's predict batch
    assert "Test CPU" in md and "100.0 GFLOP/s" in md
    assert "torch m2: boom" in md
    data = json.load(open(paths["json"]))
    assert data["summary"][0]["framework"] == "fmnistcpp"
    assert data["gemm_peak"]["2"]["gflops"] == 100.0
    with open(paths["png"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(paths["png"]) > 10_000


# --- end to end ---------------------------------------------------------------------------


def test_quick_end_to_end(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, os.path.join(BENCH, "compare_frameworks.py"), "--quick",
           "--frameworks", "fmnistcpp", "keras", "--models", "seed002-mlp", "--threads", "1",
           "--out-dir", str(tmp_path)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 3
    assert {os.path.splitext(f)[1] for f in files} == {".md", ".json", ".png"}
    data = json.load(open(tmp_path / next(f for f in files if f.endswith(".json"))))
    assert data["settings"]["threads"] == 1 and data["settings"]["quick"] is True
    assert data["machine"]["cores"] >= 1 and "oneDNN (fmnistcpp)" in data["machine"]["versions"]
    assert "--quick" in data["command"]
    runs = data["runs"]
    assert [r["framework"] for r in runs] == ["fmnistcpp", "keras"]
    for r in runs:
        assert r["n_train"] == 3000 and r["n_test"] == 1000 and len(r["epoch_s"]) == 2
        assert r["batch_size"] == 32 and r["predict_batch"] == 32
        assert r["peak_rss_mb"] > 50 and r["predict_ips"] > 0
        assert 0.6 < r["test_accuracy"] <= 1.0  # 2 epochs on 3000 images: well above chance
    assert "| seed002-mlp | Keras 3 / TF |" in res.stdout
    assert data["gemm_peak"]["1"]["gflops"] > 0


# --- profile_layers: oneDNN verbose lines -> per-primitive FLOPs ----------------

_VERBOSE = [
    "onednn_verbose,info,cpu,runtime:OpenMP",
    "onednn_verbose,exec,cpu,convolution,brgconv:avx512_core,forward_training,"
    "src_f32::blocked:acdb::f0 dst_f32::blocked:acdb::f0,attr-post-ops:eltwise_relu,"
    "alg:convolution_direct,mb100_ic24oc48_ih24oh22kh3sh1dh0ph0_iw24ow22kw3sw1dw0pw0,10.5",
    "onednn_verbose,exec,cpu,convolution,brgconv:avx512_core,forward_training,"
    "src_f32::blocked:acdb::f0 dst_f32::blocked:acdb::f0,attr-post-ops:eltwise_relu,"
    "alg:convolution_direct,mb100_ic24oc48_ih24oh22kh3sh1dh0ph0_iw24ow22kw3sw1dw0pw0,9.5",
    "onednn_verbose,exec,cpu,inner_product,x64:gemm:jit,backward_data,"
    "src_f32::blocked:ab::f0,,,mb100ic23232oc100,2.0",
    "onednn_verbose,exec,cpu,eltwise,jit:avx512_core,backward_data,"
    "data_f32::blocked:acdb::f0,,alg:eltwise_relu_use_dst_for_bwd,100x48x22x22,0.25",
]


def test_profile_problem_flops_by_hand():
    # 2 * mb * oc * oh * ow * ic * kh * kw for seed 000's third convolution
    assert profile_layers.problem_flops(
        "convolution", "mb100_ic24oc48_ih24oh22kh3sh1dh0ph0_iw24ow22kw3sw1dw0pw0"
    ) == 2 * 100 * 48 * 22 * 22 * 24 * 3 * 3
    assert profile_layers.problem_flops("inner_product", "mb100ic23232oc100") == \
        2 * 100 * 23232 * 100
    # a 4-D source counts its spatial size too
    assert profile_layers.problem_flops("inner_product", "mb32ic8ih4iw4oc10") == \
        2 * 32 * 8 * 16 * 10
    # Dense's bf16 backward-weights: x^T (23232x100) times dy (100x100)
    assert profile_layers.problem_flops("matmul", "23232x100:100x100") == 2 * 23232 * 100 * 100
    assert profile_layers.problem_flops("matmul", "100x10:10x100:100x100") == 2 * 100 * 10 * 100
    # one thread's share of Dense split by the kernel's rows (dnnl_sgemm)
    assert profile_layers.problem_flops("gemm_api", "100x11616:11616x100") == \
        2 * 100 * 11616 * 100
    assert profile_layers.problem_flops("eltwise", "100x48x22x22") == 0


def test_profile_parse_sums_executions():
    agg = profile_layers.parse(_VERBOSE)
    assert len(agg) == 3
    conv = agg[("convolution", "brgconv:avx512_core", "forward_training",
                "mb100_ic24oc48_ih24oh22kh3sh1dh0ph0_iw24ow22kw3sw1dw0pw0")]
    assert conv == [2, 20.0]
    ip = agg[("inner_product", "x64:gemm:jit", "backward_data", "mb100ic23232oc100")]
    assert ip == [1, 2.0]


def test_profile_end_to_end_accounts_for_the_step():
    result = profile_layers.profile("seed002-mlp", batches=20, threads=1)
    kinds = {(r["kind"], r["prop"]) for r in result["rows"]}
    assert {("inner_product", "forward_training"), ("inner_product", "backward_weights")} <= kinds
    # the warm-up batches are excluded: exactly one forward per measured batch
    fwd = [r for r in result["rows"] if r["prop"] == "forward_training"
           and r["problem"] == "mb32ic784oc128"]
    assert fwd and fwd[0]["executions"] == 20
    assert 0 < result["primitives_ms"] < result["wall_ms"]
    table = profile_layers.render(result, peak_gflops=100.0)
    assert "mb32ic784oc128" in table and "outside oneDNN" in table


# --- lanes_under_load: the busy-neighbour cases ---------------------------------------------


def test_lanes_under_load_runs_its_cases():
    """Idle and beside the neighbour in its own session, on a tiny run: each
    case prints its epochs and lane steps (a run with lanes forced off must
    report none)."""
    cmd = [sys.executable, os.path.join(BENCH, "lanes_under_load.py"), "--model", "seed002-mlp",
           "--n-train", "640", "--epochs", "2", "--cases", "idle", "same-off"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = [line for line in res.stdout.splitlines() if line.startswith("round 0")]
    assert len(rows) == 2
    assert "idle, team" in rows[0] and "neighbour" not in rows[0]
    assert "lanes off" in rows[1] and "lane steps 0" in rows[1] and "GFLOP/s" in rows[1]
