"""The ASGI application: TF Serving's REST API, ``:classify`` for photos, the web page.

:func:`create_app` wraps a loaded model (anything with ``input_shape``,
``output_shape`` and ``predict(x, batch_size=..., verbose=0)``) in a
Starlette app. Every ``predict`` goes through one :class:`~.batching.Batcher`
(one worker thread); JSON parsing of large bodies and image decoding run in
Starlette's thread pool, so the event loop only routes and answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import preprocess, rest
from .batching import Batcher, Overloaded

__all__ = ["create_app", "JSONResponse", "DEFAULT_NAME", "DEFAULT_MAX_BODY"]

DEFAULT_NAME = "fashion_mnist"
VERSION = 1
DEFAULT_MAX_BODY = 16 * 1024 * 1024  # a phone photo is 2-10 MB
#: Bodies larger than this are parsed off the event loop (json.loads of 64 KB takes ~0.3 ms).
_INLINE_JSON = 64 * 1024
STATIC = Path(__file__).with_name("static")
_CLASSIFY_TYPES = ("image/png", "image/jpeg", "image/webp", "application/octet-stream")


class JSONResponse(Response):
    """JSON as TF Serving writes it: NaN and Infinity allowed in answers."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return json.dumps(content, allow_nan=True, separators=(",", ":")).encode("utf-8")


def _error(status: int, message: str, headers=None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class BodyTooLarge(Exception):
    pass


class _BodyLimit:
    """Refuses a body over ``limit`` bytes with 413, by Content-Length up front or
    while it streams (a chunked body has no length)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        # the HTTP parser has already refused a Content-Length that is not a number
        if length is not None and length.isdigit() and int(length) > self.limit:
            response = _error(
                413, f"the request body is {length.decode('latin-1')} bytes; at most "
                f"{self.limit} are accepted",
                headers={"Connection": "close"},
            )
            return await response(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)


def create_app(
    model,
    name: str = DEFAULT_NAME,
    max_batch_size: int = 256,
    max_delay: float = 0.0,
    max_body: int = DEFAULT_MAX_BODY,
    max_pixels: int = preprocess.MAX_PIXELS,
    class_names=None,
):
    """The Starlette app serving ``model`` as ``/v1/models/<name>``."""
    from ..datasets.fashion_mnist import CLASS_NAMES

    class_names = list(class_names or CLASS_NAMES)
    input_shape = tuple(model.input_shape)
    input_name = rest.input_name(model)
    output_shape = tuple(model.output_shape)
    image_input = int(np.prod([d for d in input_shape[1:]])) == preprocess.SIZE**2
    can_classify = image_input and output_shape[1:] == (len(class_names),)

    def predict_rows(x):
        # batch_size = the whole batch up to max_batch_size: one engine call
        return model.predict(x, batch_size=min(len(x), max_batch_size), verbose=0)

    batcher = Batcher(predict_rows, max_batch_size=max_batch_size, max_delay=max_delay)
    decode_slots = asyncio.Semaphore(2)  # decoded photos in memory at once

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        # the first predict builds the engine's primitives: not in a request
        await batcher.run_in_worker(predict_rows, np.zeros((1,) + input_shape[1:], np.float32))
        yield
        await batcher.stop()

    def check_model(model_name, version, label):
        if model_name != name:
            spec = f"Specific({model_name}, {version})" if version is not None else f"Latest({model_name})"
            raise rest.RestError(404, f"Servable not found for request: {spec}")
        if version is not None and version != VERSION:
            raise rest.RestError(
                404, f"Servable not found for request: Specific({model_name}, {version}); "
                f"version {VERSION} is served",
            )
        if label is not None:
            raise rest.RestError(404, f"Unrecognized servable version label: {label}; this "
                                 f"server has no labels, use /versions/{VERSION}")

    async def models(request: Request):
        try:
            model_name, version, label, verb = rest.match_path(request.method, request.url.path)
            check_model(model_name, version, label)
            if verb == "status":
                return JSONResponse(rest.status_doc(VERSION))
            if verb == "metadata":
                return JSONResponse(
                    rest.metadata_doc(name, VERSION, input_shape, output_shape, input_name)
                )
            if verb == "predict":
                return await predict(request)
            if verb == "classify":
                return await classify(request)
            raise rest.RestError(
                400, f"{verb} is not supported: the model is a classifier; use :predict with "
                "JSON tensors or :classify with an image",
            )
        except rest.RestError as e:
            return _error(e.status, e.message)
        except preprocess.ImageError as e:
            return _error(e.status, str(e))
        except Overloaded as e:
            return _error(503, str(e), headers={"Retry-After": "1"})

    async def predict(request: Request):
        body = await request.body()
        if len(body) > _INLINE_JSON:
            x, columnar = await run_in_threadpool(_parse_predict, body, input_shape, input_name)
        else:
            x, columnar = _parse_predict(body, input_shape, input_name)
        y = await batcher.predict(x)
        return JSONResponse({"outputs" if columnar else "predictions": y.tolist()})

    async def classify(request: Request):
        if not can_classify:
            raise rest.RestError(
                400, f":classify needs a 28 x 28 image input and {len(class_names)} outputs; "
                f"this model has input {input_shape} and output {output_shape}",
            )
        data = await _upload(request, max_body)
        async with decode_slots:
            image = await run_in_threadpool(preprocess.preprocess, data, max_pixels)
        y = await batcher.predict(preprocess.model_input(image[None], input_shape))
        probs = y[0]
        return JSONResponse(
            {
                "predictions": probs.tolist(),
                "class_name": class_names[int(np.argmax(probs))],
                "input": image.tolist(),
            }
        )

    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace("__MODEL_NAME__", html.escape(name, quote=True))
    page = page.replace("__CLASS_NAMES__", html.escape(json.dumps(class_names), quote=True))

    async def index(request: Request):
        return Response(
            page,
            media_type="text/html; charset=utf-8",
            headers={
                # everything the page needs is on this server: no CDN, no inline script
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'",
            },
        )

    async def stats(request: Request):
        return JSONResponse(
            {
                "model": name,
                "input_shape": list(input_shape),
                "max_batch_size": batcher.max_batch_size,
                "max_delay_ms": batcher.max_delay * 1e3,
                "queued_rows": batcher.queued_rows,
                "batching": batcher.stats.as_dict(),
            }
        )

    async def on_http_error(request: Request, exc: HTTPException):
        return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    async def on_too_large(request: Request, exc: BodyTooLarge):
        return _error(413, f"the request body is over {max_body} bytes", {"Connection": "close"})

    async def on_crash(request: Request, exc: Exception):
        return _error(500, f"internal error: {type(exc).__name__}: {exc}")

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/stats", stats, methods=["GET"]),
            Route("/v1/models", models, methods=["GET", "POST"]),
            Route("/v1/models/{rest:path}", models, methods=["GET", "POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={
            HTTPException: on_http_error,
            BodyTooLarge: on_too_large,
            Exception: on_crash,
        },
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.state.model_name = name
    return _BodyLimit(app, max_body)


def _parse_predict(body: bytes, input_shape, input_name):
    return rest.parse_predict(rest.parse_json(body), input_shape, input_name, body)


async def _upload(request: Request, max_body: int) -> bytes:
    """The picture's bytes: a multipart field ``image``, or the body itself."""
    ctype = request.headers.get("content-type", "")
    kind = ctype.split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=8, max_part_size=max_body)
        try:
            upload = form.get("image")
            if upload is None or isinstance(upload, str):
                raise rest.RestError(
                    400, "expected a multipart/form-data file field named 'image' holding a "
                    f"PNG, JPEG or WebP picture; got the fields {sorted(form.keys())}",
                )
            return await upload.read()
        finally:
            await form.close()
    if kind in _CLASSIFY_TYPES:
        return await request.body()
    raise rest.RestError(
        415,
        "expected multipart/form-data with a file field 'image' (PNG, JPEG or WebP), or the "
        f"picture itself as the body with Content-Type image/png, image/jpeg or image/webp; "
        f"got Content-Type {ctype or '(none)'!r}",
    )
