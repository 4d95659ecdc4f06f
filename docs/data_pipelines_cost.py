"""Measures what a generator, a PyDataset and ImageDataGenerator.flow cost
against arrays in fit (docs/DATA_PIPELINES.md). The same model and the same
batches each way, A B B A order so drift in the shared machine's load falls
on all alike; prints seconds per epoch (median of the runs) per source.

    python docs/data_pipelines_cost.py [--batch 64] [--rounds 3]
"""

import argparse
import math
import statistics
import time

import numpy as np

import fmnistcpp as keras
from fmnistcpp.preprocessing.image import ImageDataGenerator


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    (x, y), _ = keras.datasets.fashion_mnist.load_data()
    x = (x[:args.n].astype("float32") / 255.0)[..., None]
    y = y[:args.n]
    b = args.batch
    steps = math.ceil(len(x) / b)

    def gen():
        while True:
            for i in range(0, len(x), b):
                yield x[i:i + b], y[i:i + b]

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return steps

        def __getitem__(self, i):
            return x[i * b:(i + 1) * b], y[i * b:(i + 1) * b]

    plain = ImageDataGenerator()
    augment = ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
                                 height_shift_range=0.1, zoom_range=0.1)
    sources = {
        "arrays": lambda m: m.fit(x, y, batch_size=b, shuffle=False, epochs=1, verbose=0),
        "generator": lambda m: m.fit(gen(), steps_per_epoch=steps, epochs=1, verbose=0),
        "PyDataset": lambda m: m.fit(Batches(), shuffle=False, epochs=1, verbose=0),
        "flow (no augmentation)": lambda m: m.fit(plain.flow(x, y, batch_size=b), epochs=1,
                                                  verbose=0),
        "flow (rotate/shift/zoom)": lambda m: m.fit(augment.flow(x, y, batch_size=b),
                                                    epochs=1, verbose=0),
        "augmentation alone": lambda m: [augment.flow(x, y, batch_size=b)[i]
                                         for i in range(steps)],
    }
    for arch in ("mlp", "cnn"):
        def model():
            keras.utils.set_random_seed(0)
            if arch == "mlp":
                layers = [keras.layers.Flatten(), keras.layers.Dense(128, activation="relu")]
            else:
                layers = [keras.layers.Conv2D(32, 3, activation="relu"),
                          keras.layers.MaxPooling2D(), keras.layers.Flatten()]
            m = keras.Sequential([keras.Input((28, 28, 1))] + layers +
                                 [keras.layers.Dense(10, activation="softmax")])
            m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
            return m

        times = {k: [] for k in sources}
        order = list(sources) + list(sources)[::-1]
        for _ in range(args.rounds):
            for name in order:
                m = model()
                t = time.perf_counter()
                sources[name](m)
                times[name].append(time.perf_counter() - t)
        base = statistics.median(times["arrays"])
        print(f"{arch}: {len(x)} samples, batch {b}, {steps} steps/epoch, "
              f"{2 * args.rounds} runs each")
        for name, ts in times.items():
            med = statistics.median(ts)
            print(f"  {name:26s} {med:6.3f} s/epoch  ({med / base:4.2f}x arrays; "
                  f"{1e3 * (med - base) / steps:+6.3f} ms/step; range {min(ts):.3f}-{max(ts):.3f})")


if __name__ == "__main__":
    main()
