import hashlib
import io
import os
import stat
import tracemalloc
import zipfile

import pytest
from PIL import Image

from buybutton.config import ConfigError, load_settings
from buybutton.errors import InvalidRequest, NotFound, RangeNotSatisfiable
from buybutton.storage import (
    CHUNK_SIZE,
    LocalStorage,
    Storage,
    StoredFile,
    content_range,
    parse_range,
    sniff_content_type,
    validate_key,
)

MB = 1024 * 1024


class GeneratedStream:
    """A readable stream of ``size`` pseudo-random bytes made on demand (never held whole),
    recording what each ``read`` asked for; ``on_read(n)`` runs before the n-th read."""

    def __init__(self, size: int, on_read=None, fail_after: int | None = None):
        self.size, self.sent, self.requests = size, 0, []
        self.on_read, self.fail_after = on_read, fail_after
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        self.requests.append(n)
        if self.on_read:
            self.on_read(len(self.requests))
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise ConnectionResetError("client went away")
        n = self.size - self.sent if n < 0 else min(n, self.size - self.sent)
        block = hashlib.sha256(str(self.sent).encode()).digest() * (n // 32 + 1)
        chunk = block[:n]
        self.sent += len(chunk)
        self.digest.update(chunk)
        return chunk


def everything_under(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.fixture
def storage(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


def test_local_storage_is_a_storage(storage):
    assert isinstance(storage, Storage)


def test_save_streams_in_chunks_and_keys_by_sha256(storage):
    stream = GeneratedStream(5 * MB + 123)
    stored = storage.save(stream, max_bytes=200 * MB)
    expected = stream.digest.hexdigest()
    assert stored == StoredFile(
        key=expected, size=5 * MB + 123, sha256=expected, content_type="application/octet-stream"
    )
    assert all(0 < n <= CHUNK_SIZE for n in stream.requests)
    assert storage.size(stored.key) == 5 * MB + 123
    with storage.open(stored.key) as f:
        assert hashlib.sha256(f.read()).hexdigest() == expected
    assert (storage.root / expected[:2] / expected).is_file()


def test_save_never_holds_the_whole_file_in_memory(storage):
    tracemalloc.start()
    try:
        storage.save(GeneratedStream(48 * MB), max_bytes=200 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * MB  # a few chunks, not 48 MB


def test_file_over_the_limit_is_refused_and_nothing_is_kept(storage):
    stream = GeneratedStream(3 * MB)
    with pytest.raises(InvalidRequest) as caught:
        storage.save(stream, max_bytes=2 * MB, param="product_file")
    error = caught.value
    assert (error.code, error.status, error.param) == ("file_too_large", 413, "product_file")
    assert error.message == "The file is too large: at most 2 MB."
    assert stream.sent == 2 * MB + 1  # read one byte past the limit, not the rest
    assert everything_under(storage.root) == []


def test_file_of_exactly_the_limit_is_kept(storage):
    stored = storage.save(io.BytesIO(b"x" * 1000), max_bytes=1000)
    assert stored.size == 1000


def test_empty_file_is_refused(storage):
    with pytest.raises(InvalidRequest) as caught:
        storage.save(io.BytesIO(b""), max_bytes=MB)
    assert caught.value.code == "empty_file"
    assert everything_under(storage.root) == []


def test_upload_is_written_to_a_temp_file_in_the_folder_then_renamed(storage):
    seen = {}

    def look(n):
        if n == 2:  # one chunk written, the upload not finished
            seen["during"] = everything_under(storage.root)

    stream = GeneratedStream(3 * MB, on_read=look)
    key = storage.save(stream, max_bytes=10 * MB).key
    assert key == stream.digest.hexdigest()
    assert len(seen["during"]) == 1 and seen["during"][0].startswith(".upload-")
    assert everything_under(storage.root) == [key[:2], f"{key[:2]}/{key}"]


def test_upload_failing_half_way_leaves_nothing(storage):
    with pytest.raises(ConnectionResetError):
        storage.save(GeneratedStream(3 * MB, fail_after=MB), max_bytes=10 * MB)
    assert everything_under(storage.root) == []


def test_files_are_0600_and_folders_0700(storage):
    storage.root.mkdir(mode=0o755)
    os.chmod(storage.root, 0o755)
    old = os.umask(0o022)
    try:
        stored = storage.save(io.BytesIO(b"secret product"), max_bytes=MB)
    finally:
        os.umask(old)
    path = storage.root / stored.key[:2] / stored.key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(storage.root.stat().st_mode) == 0o700


def test_same_bytes_saved_twice_are_one_file(storage):
    first = storage.save(io.BytesIO(b"same"), max_bytes=MB)
    second = storage.save(io.BytesIO(b"same"), max_bytes=MB)
    assert first == second
    assert len([p for p in storage.root.rglob("*") if p.is_file()]) == 1


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "a" * 63,
        "A" * 64,
        "a" * 64 + "/x",
        "..",
        "",
        "a" * 65,
        None,
        42,
    ],
)
def test_malformed_keys_name_no_file(storage, key):
    with pytest.raises(NotFound) as caught:
        storage.open(key)
    assert caught.value.code == "file_not_found"
    with pytest.raises(NotFound):
        storage.size(key)
    with pytest.raises(NotFound):
        validate_key(key)
    assert storage.delete(key) is False


def test_missing_file_is_not_found(storage):
    with pytest.raises(NotFound):
        storage.open("0" * 64)
    with pytest.raises(NotFound):
        list(storage.read_range("0" * 64, 0, 1))


def test_delete_removes_once(storage):
    stored = storage.save(io.BytesIO(b"bye"), max_bytes=MB)
    assert storage.delete(stored.key) is True
    assert storage.delete(stored.key) is False
    with pytest.raises(NotFound):
        storage.size(stored.key)


def test_read_range_gives_the_bytes_asked_in_chunks(storage):
    data = bytes(range(256)) * (10 * 1024)  # 2.5 MB
    stored = storage.save(io.BytesIO(data), max_bytes=10 * MB)
    chunks = list(storage.read_range(stored.key, 1_000_000, 2_200_000))
    assert b"".join(chunks) == data[1_000_000:2_200_001]
    assert len(chunks) == 2 and all(len(c) <= CHUNK_SIZE for c in chunks)
    assert b"".join(storage.read_range(stored.key, 0, 0)) == data[:1]
    last = len(data) - 1
    assert b"".join(storage.read_range(stored.key, last, last)) == data[-1:]


@pytest.mark.parametrize("start, end", [(0, 100), (-1, 5), (5, 4), (100, 100)])
def test_read_range_outside_the_file_is_unsatisfiable(storage, start, end):
    stored = storage.save(io.BytesIO(b"x" * 100), max_bytes=MB)
    with pytest.raises(RangeNotSatisfiable) as caught:
        storage.read_range(stored.key, start, end)
    assert (caught.value.status, caught.value.code, caught.value.size) == (
        416,
        "range_not_satisfiable",
        100,
    )


def test_storage_for_settings_lives_in_home_files(tmp_path):
    settings = load_settings({"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_SECRET_KEYS": "k"})
    assert LocalStorage.for_settings(settings).root == tmp_path / "files"


# -- content types ------------------------------------------------------------------------------


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, fmt)
    return out.getvalue()


def _zip(entries: list[tuple[str, str]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in entries:
            # EPUB: "mimetype" first and stored, so its text sits at offset 38 of the file.
            compress = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), text, compress_type=compress)
    return out.getvalue()


@pytest.mark.parametrize(
    "data, content_type",
    [
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
        (_zip([("readme.txt", "hello")]), "application/zip"),
        (
            _zip([("mimetype", "application/epub+zip"), ("OEBPS/a.xhtml", "<html/>")]),
            "application/epub+zip",
        ),
        (_image("PNG"), "image/png"),
        (_image("JPEG"), "image/jpeg"),
        (_image("WEBP"), "image/webp"),
        (_image("GIF"), "image/gif"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + bytes(400), "audio/mpeg"),
        (b"\xff\xfb\x90\x00" + bytes(400), "audio/mpeg"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(100), "video/mp4"),
        ("Merci pour votre achat ! Voici la clé.\n".encode(), "text/plain"),
        (b"\x00\x01\x02\x03garbage\xfe\xff" * 10, "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_content_type_is_sniffed_from_the_bytes(storage, data, content_type):
    assert sniff_content_type(data) == content_type
    if data:
        assert storage.save(io.BytesIO(data), max_bytes=MB).content_type == content_type


def test_text_cut_inside_a_multibyte_character_is_still_text():
    text = ("é" * 5000).encode()  # 10000 bytes: the 8192-byte sample ends inside no char…
    assert sniff_content_type(text[:8191]) == "text/plain"  # …but this one ends mid-"é"


def test_a_text_file_named_jpg_is_text(storage, tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_text("not a photo at all\n")
    with open(path, "rb") as f:
        assert storage.save(f, max_bytes=MB).content_type == "text/plain"


# -- HTTP Range ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, expected",
    [
        ("bytes=0-499", (0, 499)),
        ("bytes=500-999", (500, 999)),
        ("bytes=500-", (500, 999)),
        ("bytes=-200", (800, 999)),
        ("bytes=-5000", (0, 999)),  # more than the file: all of it
        ("bytes=900-5000", (900, 999)),  # end cut to the last byte
        ("bytes=999-999", (999, 999)),
        ("BYTES = 0-0", (0, 0)),
        (None, None),
        ("", None),
        ("items=0-5", None),  # another unit
        ("bytes=0-1,5-9", None),  # several ranges: served whole
        ("bytes=5-1", None),  # backwards: invalid, ignored
        ("bytes=abc", None),
        ("bytes=-", None),
        ("bytes=1-2-3", None),
        ("bytes 0-5", None),
        ("bytes=" + "9" * 300, None),  # absurdly long: ignored
    ],
)
def test_parse_range_single_ranges(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header, size",
    [
        ("bytes=1000-", 1000),
        ("bytes=1000-2000", 1000),
        ("bytes=-0", 1000),
        ("bytes=0-", 0),
        ("bytes=-5", 0),
    ],
)
def test_parse_range_unsatisfiable_is_416(header, size):
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.status == 416 and caught.value.size == size
    assert caught.value.to_dict()["code"] == "range_not_satisfiable"


def test_content_range_header():
    assert content_range(0, 499, 1234) == "bytes 0-499/1234"


# -- settings -----------------------------------------------------------------------------------


def test_max_upload_bytes_defaults_to_200_mib_and_is_configurable(tmp_path):
    base = {"BUYBUTTON_HOME": str(tmp_path), "BUYBUTTON_SECRET_KEYS": "k"}
    assert load_settings(base).max_upload_bytes == 200 * MB
    assert load_settings({**base, "BUYBUTTON_MAX_UPLOAD_BYTES": "1048576"}).max_upload_bytes == MB


@pytest.mark.parametrize("value", ["200MB", "-1", "0", "12.5", "\u00b2", str(65 * 1024**3)])
def test_bad_max_upload_bytes_is_a_clear_config_error(tmp_path, value):
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                "BUYBUTTON_HOME": str(tmp_path),
                "BUYBUTTON_SECRET_KEYS": "k",
                "BUYBUTTON_MAX_UPLOAD_BYTES": value,
            }
        )
    assert "BUYBUTTON_MAX_UPLOAD_BYTES must be a whole number" in caught.value.message
