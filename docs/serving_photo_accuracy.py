"""Accuracy on photo-like pictures of Fashion-MNIST test items next to that on the items.

    python docs/serving_photo_accuracy.py MODEL [N]

Each of the first N (default 1000) test images becomes a photo-like picture
(fmnistcpp.serving.samples.photo_like: 600 x 800, light tinted background,
lighting gradient, noise; JPEG, every third one WebP), goes through the
serving pipeline (fmnistcpp.serving.preprocess) and is classified by MODEL.
"""

import sys

import numpy as np

import fmnistcpp as keras
from fmnistcpp.serving import preprocess as pp
from fmnistcpp.serving.samples import photo_like


def main(argv):
    path, n = argv[0], int(argv[1]) if len(argv) > 1 else 1000
    model = keras.models.load_model(path)
    (_, _), (x, y) = keras.datasets.fashion_mnist.load_data()
    photos = np.stack([pp.preprocess(photo_like(x[i], seed=i, fmt="JPEG" if i % 3 else "WEBP"))
                       for i in range(n)])

    def accuracy(images):
        p = model.predict(pp.model_input(images, model.input_shape), verbose=0)
        return float((p.argmax(1) == y[:n]).mean())

    print(f"{path}: test items {accuracy(x[:n]):.3f}, photo-like pictures of them "
          f"{accuracy(photos):.3f} (n={n})")


if __name__ == "__main__":
    main(sys.argv[1:])
