"""Large request bodies: a file upload is streamed from the request into storage, never held in
memory whole.

The app's bodies are limited to 1 MiB (``MAX_CONTENT_LENGTH``); a view marked
:func:`streams_upload` takes up to ``BUYBUTTON_MAX_UPLOAD_BYTES`` plus
:data:`MULTIPART_OVERHEAD` instead. Two layers honour that:

- gunicorn's :mod:`.buffering_worker` asks :class:`BodyLimits` (installed by :func:`install`)
  for each request's limit, by the view its path and method name, and spools a body larger than
  :data:`~.buffering_worker.SPOOL_BYTES` to an unlinked temporary file in the instance folder
  (``$BUYBUTTON_HOME/files``), not to memory;
- the view reads the multipart body with :class:`MultipartFile`, one socket-sized chunk at a
  time through Werkzeug's incremental multipart decoder, straight into
  :meth:`buybutton.storage.Storage.save`, which hashes and writes it chunk by chunk. There is
  no intermediate temporary file and no form parsing into memory.

A declared ``Content-Length`` over the limit is refused before any byte is read, and a body that
turns out larger is refused as soon as the limit is crossed: ``413 file_too_large`` either way,
and nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from flask import Flask, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.routing import Map
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from buybutton.errors import ErrorCode, InvalidRequest

View = TypeVar("View", bound=Callable[..., Any])
#: Room around the file in a multipart body: boundaries, part headers, a few small fields.
MULTIPART_OVERHEAD = 64 * 1024
#: What the request body is read in.
READ_SIZE = 64 * 1024
#: Bytes of other parts (form fields) tolerated before the file part.
MAX_OTHER_PARTS = 64 * 1024


def streams_upload(view: View) -> View:
    """Declare that ``view`` takes a file upload (see the module docstring): a larger body
    limit, no ``Idempotency-Key`` fingerprint of the body (an upload is idempotent by nature:
    the same bytes are the same stored file)."""
    view.streams_upload = True  # type: ignore[attr-defined]
    return view


def is_upload_view(app: Flask, endpoint: str | None) -> bool:
    """Whether ``endpoint`` is a view marked :func:`streams_upload`."""
    view = app.view_functions.get(endpoint or "")
    return bool(getattr(view, "streams_upload", False))


class BodyLimits:
    """The body size each request may have, by its method and path: ``upload`` bytes for an
    upload view, ``default`` for any other. Used by the buffering worker before the app runs."""

    def __init__(
        self, app: Flask, *, default: int, upload: int, spool_dir: Path | None = None
    ) -> None:
        self._app = app
        self._map: Map = app.url_map
        self.default = default
        self.upload = upload
        #: Where the worker spools large bodies (an unlinked temporary file).
        self.spool_dir = spool_dir

    def __call__(self, method: str, path: str) -> int:
        try:
            endpoint, _ = self._map.bind("localhost").match(path.split("?", 1)[0], method)
        except HTTPException:
            return self.default
        return self.upload if is_upload_view(self._app, str(endpoint)) else self.default

    def spool_folder(self) -> Path | None:
        """The spool folder, made (0700) if missing; ``None`` when none is configured."""
        if self.spool_dir is None:
            return None
        self.spool_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.spool_dir


def install(app: Flask, *, max_upload_bytes: int, home: Path) -> None:
    """Declare the app's body limits for the buffering worker
    (``app.extensions["buybutton.body_limits"]``)."""
    app.extensions["buybutton.body_limits"] = BodyLimits(
        app,
        default=app.config["MAX_CONTENT_LENGTH"],
        upload=max_upload_bytes + MULTIPART_OVERHEAD,
        spool_dir=home / "files",
    )


def _too_large(max_bytes: int, param: str) -> InvalidRequest:
    mib = max_bytes / 1024**2
    return InvalidRequest(
        f"The file is too large: at most {mib:.0f} MB." if mib >= 1 else "The file is too large.",
        code=ErrorCode.FILE_TOO_LARGE,
        param=param,
        status=413,
    )


class MultipartFile:
    """The part named ``field`` of the request's ``multipart/form-data`` body, read as a
    stream (``read(size)``), from the request's input stream, chunk by chunk.

    :meth:`open` finds the part (skipping up to :data:`MAX_OTHER_PARTS` bytes of others) and
    returns its file name. Raises :class:`InvalidRequest`: 415 ``unsupported_media_type`` for
    another content type, 413 ``file_too_large`` when the body declares or reaches more than
    ``max_bytes`` + :data:`MULTIPART_OVERHEAD`, 400 when the part is missing or the body is
    malformed.
    """

    def __init__(self, field: str, *, max_bytes: int) -> None:
        self.field = field
        self.max_bytes = max_bytes
        self.filename = ""
        #: The small text parts sent before the file part (a form's CSRF token), by name.
        self.fields: dict[str, str] = {}
        self._events: Iterator[Any] | None = None
        self._pending = bytearray()
        self._done = False

    def open(self) -> str:
        mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
        boundary = options.get("boundary", "")
        if mimetype != "multipart/form-data" or not boundary:
            raise InvalidRequest(
                f"Send the file as multipart/form-data, in a part named {self.field!r}.",
                code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                param=self.field,
                status=415,
            )
        limit = self.max_bytes + MULTIPART_OVERHEAD
        if request.content_length is not None and request.content_length > limit:
            raise _too_large(self.max_bytes, self.field)
        request.max_content_length = limit
        self._events = self._decode(request.stream, boundary.encode("latin-1"))
        skipped = 0
        current: str | None = None
        for event in self._events:
            if isinstance(event, File) and event.name == self.field:
                self.filename = event.filename
                return self.filename
            if isinstance(event, (Field, File)):
                current = event.name if isinstance(event, Field) else None
            elif isinstance(event, Data):
                skipped += len(event.data)
                if skipped > MAX_OTHER_PARTS:
                    break
                if current is not None:
                    text = event.data.decode("utf-8", "replace")
                    self.fields[current] = self.fields.get(current, "") + text
        raise InvalidRequest(f"The body has no file part named {self.field!r}.", param=self.field)

    def _decode(self, stream: IO[bytes], boundary: bytes) -> Iterator[Any]:
        decoder = MultipartDecoder(boundary)
        try:
            while True:
                event = decoder.next_event()
                if isinstance(event, NeedData):
                    chunk = stream.read(READ_SIZE)
                    decoder.receive_data(chunk or None)
                elif isinstance(event, Epilogue):
                    return
                else:
                    yield event
        except RequestEntityTooLarge:
            raise _too_large(self.max_bytes, self.field) from None
        except ValueError:
            raise InvalidRequest(
                "The multipart body is malformed (or ends early).", param=self.field
            ) from None

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the file part (all that is left for a negative ``size``,
        which a caller streaming a large file never asks); ``b""`` at its end."""
        assert self._events is not None, "open() first"
        want = size if size >= 0 else float("inf")
        while len(self._pending) < want and not self._done:
            event = next(self._events, None)
            if event is None:
                raise InvalidRequest("The multipart body ends early.", param=self.field)
            if isinstance(event, Data):
                self._pending += event.data
                self._done = not event.more_data
        if size < 0:
            size = len(self._pending)
        piece = bytes(self._pending[:size])
        del self._pending[:size]
        return piece
