"""Max differences between fmnistcpp and Keras on the functional graphs of
tests/test_functional.py (docs/RESULTS.md, issue 11)."""
import os, sys
import numpy as np, keras, fmnistcpp
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import test_functional as tf_
from conftest import copy_weights
rows = []
for m in tf_.MERGES:
    km, fm = tf_.twins(lambda lib: tf_.merge_model(lib, m))
    x = tf_.RNG.normal(size=(64, 12)).astype(np.float32)
    rows.append((f"{m} (forward)", np.abs(fm.predict(x, verbose=0) - km.predict(x, verbose=0)).max()))
(x, y), _ = fmnistcpp.datasets.fashion_mnist.load_data()
x = (x[:256, 8:20, 8:20] / 255.0).astype(np.float32)[..., None]; y = y[:256]
for name, b in (("residual CNN", tf_.residual_cnn), ("two-branch", tf_.two_branch)):
    km, fm = tf_.twins(b)
    rows.append((f"{name} (forward)", np.abs(fm.predict(x, verbose=0) - km.predict(x, verbose=0)).max()))
    for m, lib in ((km, keras), (fm, fmnistcpp)):
        m.compile(lib.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    kh = km.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history["loss"]
    fh = fm.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history["loss"]
    rows.append((f"{name} (2-epoch loss, Adam)", max(abs(a - b) for a, b in zip(kh, fh))))
for r in rows: print(f"| {r[0]} | {r[1]:.2e} |")
