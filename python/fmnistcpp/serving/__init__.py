"""Serving a model: TensorFlow Serving's REST API, photo classification and a web page.

``python -m fmnistcpp serve [MODEL]`` runs it (see docs/SERVING.md); in Python::

    import uvicorn
    from fmnistcpp import models
    from fmnistcpp.serving import create_app

    app = create_app(models.load_model("model.keras"), name="fashion_mnist")
    uvicorn.run(app, host="127.0.0.1", port=8501)

Modules: :mod:`.app` (the Starlette application), :mod:`.rest` (TF Serving's
request and answer shapes), :mod:`.batching` (requests batched into one
predict on one worker thread), :mod:`.preprocess` (a photo as a
Fashion-MNIST image), :mod:`.server` (the command), :mod:`.loadtest`
(requests/s under concurrent clients), :mod:`.samples` (photo-like test
pictures). Starlette, uvicorn, python-multipart and Pillow come with the
``serve`` extra: ``pip install 'fmnistcpp[serve]'``.
"""

from .batching import Batcher, Overloaded
from .preprocess import ImageError

__all__ = ["create_app", "Batcher", "Overloaded", "ImageError"]


def create_app(model, **kwargs):
    """:func:`fmnistcpp.serving.app.create_app` (imported here late: Starlette is optional)."""
    from .app import create_app as _create_app

    return _create_app(model, **kwargs)
