"""Where uploaded files live: product files of digital goods, product images.

:class:`Storage` is the interface the rest of buybutton uses; :class:`LocalStorage` keeps files
in a folder (``$BUYBUTTON_HOME/files/``). Files are content-addressed: a file's key is the
SHA-256 of its bytes (64 lower-case hex digits), so the same upload stored twice is one file,
keys cannot be guessed from product names, and a key that passes :func:`validate_key` can never
name a path outside the folder.

Uploads are streamed in chunks of :data:`CHUNK_SIZE` (never the whole file in memory), counted
against ``max_bytes`` as they arrive, and written to a temporary file in the storage folder that
is renamed into place only once complete: a reader sees a whole file or none, and an upload
refused half-way (too large, client gone) leaves nothing behind.

Also here: :func:`parse_range`, the HTTP ``Range`` header for serving downloads in parts, and
:func:`sniff_content_type`, the type of a file judged from its first bytes, not its name.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

import filetype

from .config import Settings
from .errors import ErrorCode, InvalidRequest, NotFound, RangeNotSatisfiable

#: Bytes read from an upload stream (or a stored file) at a time.
CHUNK_SIZE = 1024 * 1024
#: How much of a file's start :func:`sniff_content_type` looks at.
SNIFF_BYTES = 8192
_KEY = re.compile(r"[0-9a-f]{64}")


class Readable(Protocol):
    """What :meth:`Storage.save` reads from: a binary file, or any object with ``read(size)``
    (a multipart part being received)."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file in storage: ``key`` (its SHA-256, hex), ``size`` in bytes, ``sha256`` (the same
    as ``key`` for content-addressed storage), ``content_type`` sniffed from its bytes."""

    key: str
    size: int
    sha256: str
    content_type: str


@runtime_checkable
class Storage(Protocol):
    """Stores uploaded files under opaque keys.

    Every method that takes a key raises :class:`NotFound` (code ``file_not_found``) when no file
    has that key, including keys that are not well formed.
    """

    def save(self, stream: Readable, *, max_bytes: int, param: str = "file") -> StoredFile:
        """Store what ``stream.read()`` gives until it is exhausted, reading in chunks.

        Raises :class:`InvalidRequest` with ``param`` and code ``file_too_large`` (status 413)
        when more than ``max_bytes`` arrive, or ``empty_file`` when none do; nothing is kept.
        """

    def open(self, key: str) -> BinaryIO:
        """The stored file opened for binary reading (the caller closes it)."""

    def size(self, key: str) -> int:
        """The stored file's size in bytes."""

    def delete(self, key: str) -> bool:
        """Remove the file; ``True`` if it existed, ``False`` if it did not (never raises for
        a missing file, so deleting twice is safe)."""

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` inclusive (as in HTTP ranges), in chunks.

        Raises :class:`RangeNotSatisfiable` unless ``0 <= start <= end < size``.
        """


def validate_key(key: object) -> str:
    """``key`` if it is a storage key (64 lower-case hex digits), else :class:`NotFound`:
    a malformed key names no file, and must never reach the file system as a path."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise NotFound("No such file.", code=ErrorCode.FILE_NOT_FOUND)
    return key


def sniff_content_type(head: bytes) -> str:
    """The media type of a file whose first bytes are ``head`` (give at least
    :data:`SNIFF_BYTES` of them when the file is that long).

    Known by their magic numbers (the ``filetype`` library): PDF, ZIP and the formats built on
    it (EPUB by its ``mimetype`` entry, Office documents), PNG, JPEG, WebP, GIF, MP3, MP4 and
    others; UTF-8 text without control characters is ``text/plain``; anything else is
    ``application/octet-stream``. The type says what the bytes are, never what their name says.
    """
    if not head:
        return "application/octet-stream"
    kind = filetype.guess(head[:SNIFF_BYTES])
    if kind is not None:
        return str(kind.mime)
    if _looks_like_text(head[:SNIFF_BYTES]):
        return "text/plain"
    return "application/octet-stream"


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character: judge what comes before it.
        if error.start < len(head) - 3:
            return False
        text = head[: error.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\n\r\f" for ch in text.lstrip("\ufeff"))


class LocalStorage:
    """:class:`Storage` in a local folder: ``<root>/<first two hex digits>/<key>``.

    The folders are made 0700 and the files 0600 (only the server's user reads uploads; they are
    served through the application, which checks who may download). ``root`` is typically
    :meth:`for_settings`'s ``$BUYBUTTON_HOME/files``.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).absolute()

    @classmethod
    def for_settings(cls, settings: Settings) -> LocalStorage:
        """The storage of a configured instance: ``settings.home / "files"``."""
        return cls(Path(settings.home) / "files")

    def _path(self, key: str) -> Path:
        key = validate_key(key)
        return self.root / key[:2] / key

    def _make_folder(self, path: Path) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is masked by the umask

    def save(self, stream: Readable, *, max_bytes: int, param: str = "file") -> StoredFile:
        """See :meth:`Storage.save`. A file already stored (same bytes) is kept as it is."""
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self._make_folder(self.root)
        digest = hashlib.sha256()
        head = b""
        size = 0
        fd, temp_path = tempfile.mkstemp(dir=self.root, prefix=".upload-")  # mode 0600
        temp_name: str | None = temp_path

        try:
            with os.fdopen(fd, "wb") as temp:
                while True:
                    # Never ask for more than one byte past the limit: a huge chunk is not read.
                    chunk = stream.read(min(CHUNK_SIZE, max_bytes + 1 - size))
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise InvalidRequest(
                            f"The file is too large: at most {_human(max_bytes)}.",
                            code=ErrorCode.FILE_TOO_LARGE,
                            param=param,
                            status=413,
                        )
                    digest.update(chunk)
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    temp.write(chunk)
                if size == 0:
                    raise InvalidRequest(
                        "The file is empty.", code=ErrorCode.EMPTY_FILE, param=param
                    )
                temp.flush()
                os.fsync(temp.fileno())
            key = digest.hexdigest()
            final = self._path(key)
            self._make_folder(final.parent)
            os.replace(temp_path, final)  # atomic on one file system: whole file or none
            temp_name = None
            _fsync_folder(final.parent)
        finally:
            if temp_name is not None:
                os.unlink(temp_name)
        return StoredFile(key=key, size=size, sha256=key, content_type=sniff_content_type(head))

    def open(self, key: str) -> BinaryIO:
        """See :meth:`Storage.open`."""
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise NotFound("No such file.", code=ErrorCode.FILE_NOT_FOUND) from None

    def size(self, key: str) -> int:
        """See :meth:`Storage.size`."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound("No such file.", code=ErrorCode.FILE_NOT_FOUND) from None

    def delete(self, key: str) -> bool:
        """See :meth:`Storage.delete`."""
        try:
            self._path(key).unlink()
        except (FileNotFoundError, NotFound):
            return False
        return True

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """See :meth:`Storage.read_range`. The range is checked (and the file opened) at the
        call, before the first chunk; the file is closed when the iterator ends or is closed."""
        file = self.open(key)
        size = os.fstat(file.fileno()).st_size
        if not 0 <= start <= end < size:
            file.close()
            raise RangeNotSatisfiable(size)
        return _chunks(file, start, end - start + 1)


def _chunks(file: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    with file:
        file.seek(start)
        while length > 0:
            chunk = file.read(min(CHUNK_SIZE, length))
            if not chunk:  # the file shrank under us: end what we send
                return
            length -= len(chunk)
            yield chunk


def _fsync_folder(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _human(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return (
                f"{size / factor:.0f} {unit}"
                if size % factor == 0
                else (f"{size / factor:.1f} {unit}")
            )
    return f"{size} bytes"


_RANGE = re.compile(r"(\d*)-(\d*)")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The byte range a ``Range`` header asks of a ``size``-byte file, as ``(start, end)``
    inclusive, or ``None`` to answer with the whole file (200).

    Only one range is served: ``bytes=0-499``, ``bytes=500-`` (to the end), ``bytes=-500``
    (the last 500). ``None`` — serve the whole file, as RFC 9110 allows and as most servers do —
    for no header, another unit, a malformed header, a backwards range (``bytes=5-1``), and
    several ranges (``bytes=0-1,5-9``: multipart answers are not worth their cost for a
    download; clients fall back to the whole file). An end past the file is cut to its last byte.

    Raises :class:`RangeNotSatisfiable` (416; its ``size`` goes into ``Content-Range: bytes
    */size``) when the range starts at or past the end of the file, or asks for the last 0 bytes,
    or the file is empty.
    """
    if not header or len(header) > 200:
        return None
    unit, sep, spec = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE.fullmatch(spec.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(size)
    return start, min(end, size - 1)


def content_range(start: int, end: int, size: int) -> str:
    """The ``Content-Range`` header of a 206 answer: ``bytes 0-499/1234``."""
    return f"bytes {start}-{end}/{size}"
