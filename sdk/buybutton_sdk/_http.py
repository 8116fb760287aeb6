"""The HTTP layer: one place for authentication, timeouts, retries and idempotency keys.

Retries: a request is retried (up to ``max_retries`` times) when the server could not be reached
or timed out, answered 429 or 5xx (honoring ``Retry-After`` up to a minute), or 409
``idempotency_key_in_use`` (the first attempt is still running on the server; the retry will get
its result). The wait is exponential with jitter. Every POST, PATCH and DELETE carries an ``Idempotency-Key``, the same on
every attempt, so the server carries the request out at most once.
"""

from __future__ import annotations

import email.utils
import json
import platform
import random
import time
import uuid
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import IO, Any

import requests

from ._version import __version__
from .errors import APIConnectionError, APIError, BuyButtonError, error_class, error_for_status

MUTATING_METHODS = frozenset({"POST", "PATCH", "DELETE"})
RETRYABLE_CONFLICT_CODES = frozenset({"idempotency_key_in_use"})
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0  # a longer Retry-After is not waited for: the error goes to the caller


def user_agent() -> str:
    return f"buybutton-sdk/{__version__} python/{platform.python_version()}"


def new_idempotency_key() -> str:
    return f"bbsdk-{uuid.uuid4()}"


@dataclass(frozen=True)
class APIResponse:
    """A successful answer: its status, decoded JSON body and headers, and the idempotency key
    the request carried (``None`` for reads)."""

    status: int
    body: Any
    headers: Mapping[str, str]
    idempotency_key: str | None = None

    @property
    def request_id(self) -> str | None:
        """The server's id of the request (``X-Request-Id``)."""
        return self.headers.get("X-Request-Id")

    @property
    def idempotent_replayed(self) -> bool:
        """Whether the server replayed the answer to an earlier request with the same key."""
        return self.headers.get("Idempotent-Replayed") == "true"


class HTTPClient:
    """Sends API requests with retries; used by :class:`~buybutton_sdk.Client`'s services.

    ``sleep``, ``random`` and ``clock`` are injectable, so retries are testable without waiting.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float,
        max_retries: int,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required (your secret key, bb_sk_…)")
        if timeout is None or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.session = session or requests.Session()
        self._sleep = sleep
        self._random = random
        self._clock = clock

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        upload: MultipartUpload | None = None,
        idempotency_key: str | None = None,
    ) -> APIResponse:
        """Send ``method path`` and return the decoded answer; raise a :class:`BuyButtonError`.

        ``params`` go in the query string (``None`` values dropped, booleans as
        ``true``/``false``); ``json_body`` is sent as JSON; ``upload`` as a streamed
        ``multipart/form-data`` body (retried only when its file can be rewound). A mutating
        request gets ``idempotency_key`` or a generated one, the same on every retry.
        """
        method = method.upper()
        headers: MutableMapping[str, str] = {
            "Authorization": f"Bearer {self.api_key}",
            "User-Agent": user_agent(),
            "Accept": "application/json",
        }
        if method in MUTATING_METHODS:
            headers["Idempotency-Key"] = idempotency_key or new_idempotency_key()
        data: bytes | MultipartUpload | None = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body, separators=(",", ":")).encode()
        if upload is not None:
            headers["Content-Type"] = upload.content_type
            data = upload
        url = self.base_url + path
        query = _encode_params(params)

        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, url, params=query, data=data, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                error: BuyButtonError = APIConnectionError(
                    f"Could not reach the buybutton server at {self.base_url} "
                    f"({type(exc).__name__}: {exc})."
                )
                error.__cause__ = exc
                retry_after = None
            except requests.RequestException as exc:  # e.g. an invalid URL: retrying won't help
                raise APIConnectionError(
                    f"The request could not be sent: {exc}", should_retry=False
                ) from exc
            else:
                if 200 <= response.status_code < 300:
                    return APIResponse(
                        response.status_code,
                        _decode(response),
                        response.headers,
                        headers.get("Idempotency-Key"),
                    )
                error = _error_from_response(response)
                retry_after = _retry_after(response.headers.get("Retry-After"), self._clock())
            if attempt >= self.max_retries or not _should_retry(error, retry_after):
                raise error
            if upload is not None and not upload.rewind():
                raise error  # the file was read and cannot be read again
            self._sleep(self._delay(attempt, retry_after))
            attempt += 1

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter (half to all of the step), at least ``Retry-After``."""
        step = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0**attempt)
        delay = step * (0.5 + 0.5 * self._random())
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


def _should_retry(error: BuyButtonError, retry_after: float | None) -> bool:
    if isinstance(error, APIConnectionError):
        return error.should_retry
    if retry_after is not None and not retry_after <= MAX_RETRY_AFTER:
        return False  # a 429 or a 503 asking for a long wait: the caller decides
    status = error.http_status or 0
    if status == 429:
        return True
    if status == 409:
        return error.code in RETRYABLE_CONFLICT_CODES
    return status >= 500


def _encode_params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        encoded[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return encoded


def _decode(response: requests.Response) -> Any:
    if response.headers.get("Content-Type", "").startswith("text/"):
        return response.text  # an export (CSV): the caller asked for a document
    try:
        return response.json()
    except ValueError:
        raise APIError(
            f"The server answered {response.status_code} with a body that is not JSON.",
            http_status=response.status_code,
            request_id=response.headers.get("X-Request-Id"),
            headers=response.headers,
        ) from None


def _error_from_response(response: requests.Response) -> BuyButtonError:
    request_id = response.headers.get("X-Request-Id")
    try:
        body = response.json()
    except ValueError:
        body = None
    details = body.get("error") if isinstance(body, dict) else None
    if not isinstance(details, dict):
        reason = f" {response.reason}" if response.reason else ""
        return error_for_status(response.status_code, None)(
            f"The server answered HTTP {response.status_code}{reason}.",
            http_status=response.status_code,
            request_id=request_id,
            headers=response.headers,
            json_body=body if isinstance(body, dict) else None,
        )
    code = details.get("code")
    cls = error_class(response.status_code, details.get("type"), code)
    return cls(
        str(details.get("message") or f"HTTP {response.status_code}"),
        http_status=response.status_code,
        code=code,
        param=details.get("param"),
        type=details.get("type"),
        request_id=request_id,
        json_body=body,
        headers=response.headers,
    )


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


class MultipartUpload:
    """A ``multipart/form-data`` body of one file part, read in chunks from the file as it is
    sent (``requests`` streams any object with ``read`` and a length), never whole in memory."""

    def __init__(self, field: str, filename: str, file: IO[bytes], *, size: int) -> None:
        boundary = uuid.uuid4().hex
        self.content_type = f"multipart/form-data; boundary={boundary}"
        # As browsers write it (WHATWG): quotes and line breaks percent-encoded, UTF-8 as is.
        quoted = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        self._head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._file, self._size = file, size
        self._start = file.tell() if file.seekable() else None
        self._pos = 0
        self.len = len(self._head) + size + len(self._tail)  # what requests reads as the length

    def __len__(self) -> int:
        return self.len

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.len - self._pos
        out = b""
        while len(out) < size and self._pos < self.len:
            want = size - len(out)
            head, body_end = len(self._head), len(self._head) + self._size
            if self._pos < head:
                piece = self._head[self._pos : self._pos + want]
            elif self._pos < body_end:
                piece = self._file.read(min(want, body_end - self._pos))
                if not piece:
                    raise OSError("the file is shorter than its size: it changed during upload")
            else:
                start = self._pos - body_end
                piece = self._tail[start : start + want]
            out += piece
            self._pos += len(piece)
        return out

    def rewind(self) -> bool:
        """Start again from the beginning (for a retry); False when the file cannot seek."""
        if self._start is None:
            return False
        self._file.seek(self._start)
        self._pos = 0
        return True
