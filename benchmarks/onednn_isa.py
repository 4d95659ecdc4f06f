"""Which instruction set and kernels oneDNN dispatched in a framework.

oneDNN picks its kernels at run time from the CPU's features (AVX2,
AVX-512, AVX512-BF16, AMX), so a benchmark should say what it actually
ran. ``probe(framework, precision)`` trains a few batches of seed 000's
CNN in a subprocess under ``ONEDNN_VERBOSE=1`` (fmnistcpp, Keras on
TensorFlow's oneDNN ops, PyTorch's bundled oneDNN all honour it) and
returns the ISA line oneDNN printed and the implementations its
convolutions and inner products / matmuls ran, e.g.
``convolution:brgconv:avx512_core_amx_bf16``.

    python benchmarks/onednn_isa.py fmnistcpp --precision mixed_bfloat16
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ("convolution", "inner_product", "matmul", "deconvolution")


def parse(text: str) -> dict:
    """{'isa': str or None, 'kernels': sorted 'kind:implementation' strings}
    from oneDNN verbose output (3.x line formats, with or without the
    'primitive' marker of newer versions)."""
    isa, kernels = None, set()
    for line in text.splitlines():
        if not line.startswith(("onednn_verbose", "dnnl_verbose")):
            continue
        parts = line.strip().split(",")
        if "isa:" in line and isa is None:
            isa = line.split("isa:", 1)[1].strip()
            continue
        if "exec" not in parts:
            continue
        i = parts.index("exec")
        # exec,cpu,<kind>,<implementation>,<propagation>,...
        if len(parts) > i + 3 and parts[i + 1] == "cpu" and parts[i + 2] in KINDS:
            kernels.add(f"{parts[i + 2]}:{parts[i + 3]}")
    return {"isa": isa, "kernels": sorted(kernels)}


def probe(framework: str, precision: str = "float32", threads: int = 2,
          timeout: float = 300) -> dict:
    """Runs compare_frameworks' worker on 200 images for one epoch under
    ONEDNN_VERBOSE=1 and parses what oneDNN printed; a dict with 'note' when
    the framework did not run or printed nothing."""
    spec = json.dumps({"framework": framework, "model_name": "seed000-cnn", "epochs": 1,
                       "threads": threads, "seed": 0, "n_train": 200, "n_test": 100,
                       "precision": precision})
    env = dict(os.environ, ONEDNN_VERBOSE="1", OMP_NUM_THREADS=str(threads),
               TF_CPP_MIN_LOG_LEVEL="3",
               TF_ENABLE_ONEDNN_OPTS=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1"))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "probe.json")
        try:
            res = subprocess.run([sys.executable, os.path.join(HERE, "compare_frameworks.py"),
                                  "--worker", spec, out], env=env, capture_output=True,
                                 text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"isa": None, "kernels": [], "note": "probe timed out"}
        run = json.load(open(out)) if os.path.exists(out) else {}
    info = parse(res.stdout + "\n" + res.stderr)
    if "unavailable" in run:
        info["note"] = run["unavailable"]
    elif res.returncode != 0:
        info["note"] = f"probe failed: {(res.stderr or res.stdout)[-300:]}"
    elif not info["isa"] and not info["kernels"]:
        info["note"] = "no oneDNN verbose output (the framework did not use oneDNN here)"
    return info


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("framework", choices=("fmnistcpp", "keras", "torch"))
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16"))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    print(json.dumps(probe(args.framework, args.precision, args.threads), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
