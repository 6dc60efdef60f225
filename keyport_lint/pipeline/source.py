"""Read and decode: bytes to text the way Python itself would (BOM, PEP 263 cookie, CRLF).

Each file is read once per run: the bytes are hashed as they are read (the cache files results
under the hash of the exact bytes analysed) and the lower-case text every token search needs is
computed once, on first use. Special files (FIFOs, devices, sockets) are never opened: a FIFO
would block the run and a device may never end.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import stat
import tokenize
from pathlib import Path
from typing import Any

from keyport_lint.valuerecord import ValueRecord

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | \
    getattr(os, "O_CLOEXEC", 0)


class Source(ValueRecord):
    """A file's decoded text, read once. Read-only by convention. (A plain class: a dataclass
    costs every run a millisecond to define.)"""

    __slots__ = ("_lower", "digest", "display", "kind", "path", "stat", "text")

    def __init__(self, path: Path, display: str, kind: str, text: str, digest: str = "",
                 stat: tuple[int, int] = (-1, 0), _lower: list[str] | None = None) -> None:
        self.path = path
        self.display = display  # relative, /-separated: what every output shows
        self.kind = kind  # "python" or "text"
        self.text = text
        self.digest = digest  # SHA-256 of the bytes the text was decoded from
        self.stat = stat  # size and mtime (ns), taken before the bytes were read
        self._lower: list[str] = _lower if _lower is not None else []

    @property
    def lower(self) -> str:
        """The text in lower case, computed once for every token search that needs it."""
        if not self._lower:
            self._lower.append(self.text.lower())
        return self._lower[0]

    def without_lower(self) -> Source:
        """The same source without its lower-case copy (smaller to send to a worker)."""
        return Source(self.path, self.display, self.kind, self.text, self.digest, self.stat)

    def _key(self) -> tuple[object, ...]:
        return (self.path, self.display, self.kind, self.text, self.digest, self.stat)

    def __repr__(self) -> str:
        return (f"Source(path={self.path!r}, display={self.display!r}, kind={self.kind!r}, "
                f"text=<{len(self.text)} characters>, digest={self.digest!r}, "
                f"stat={self.stat!r})")

    def __getstate__(self) -> tuple[object, ...]:
        return (*self._key(), self._lower)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.path, self.display, self.kind, self.text, self.digest, self.stat,
         self._lower) = state


class SourceError(Exception):
    """Why a file could not be read; the message never quotes file content."""


def read_bytes(path: str | Path, max_size: int) -> tuple[bytes, str, tuple[int, int]]:
    """A regular file's bytes, their SHA-256 and (size, mtime) from before the read; the file
    type is checked before opening."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise SourceError(f"not a regular file ({_file_type(st.st_mode)}): not read")
        if st.st_size > max_size:
            raise SourceError(f"file is {st.st_size} bytes, over the {max_size}-byte limit "
                              "(settings.max-file-size)")
        fd = os.open(path, _OPEN_FLAGS)
        try:
            st = os.fstat(fd)  # the name may have been swapped for a FIFO since the stat
            if not stat.S_ISREG(st.st_mode):
                raise SourceError(f"not a regular file ({_file_type(st.st_mode)}): not read")
            with os.fdopen(fd, "rb", closefd=False, buffering=0) as handle:
                data = handle.read(min(st.st_size, max_size) + 1)
                while len(data) <= max_size and len(data) > st.st_size:  # grew meanwhile
                    chunk = handle.read(min(1 << 20, max_size + 1 - len(data)))
                    if not chunk:
                        break
                    data += chunk
        finally:
            os.close(fd)
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or type(exc).__name__}") from None
    if len(data) > max_size:
        raise SourceError(f"file is over the {max_size}-byte limit (settings.max-file-size)")
    return data, hashlib.sha256(data).hexdigest(), (st.st_size, st.st_mtime_ns)


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "a special file"


def read_source(path: Path, display: str, kind: str, max_size: int) -> Source:
    data, digest, seen = read_bytes(path, max_size)
    return Source(path, display, kind, decode(data, kind), digest, seen)


def decode(data: bytes, kind: str) -> str:
    """Never quotes the declared encoding: a `# coding:` line is file content (maybe a key)."""
    if b"\0" in data[:8192]:
        raise SourceError("file looks binary (NUL byte)")
    encoding = "utf-8-sig"
    if kind == "python":
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError:
            raise SourceError("bad or unknown encoding declaration") from None
        declared = encoding not in ("utf-8", "utf-8-sig")
        if declared and not _text_codec(encoding):
            raise SourceError("the declared encoding is not a text encoding") from None
    try:
        text = data.decode(encoding)
    except (UnicodeError, LookupError, ValueError, TypeError, OverflowError):
        if encoding in ("utf-8", "utf-8-sig"):
            raise SourceError("cannot decode as UTF-8") from None
        raise SourceError("cannot decode with the declared encoding") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _text_codec(name: str) -> bool:
    """Python itself refuses codecs that do not decode bytes to text (rot13, zlib …)."""
    try:
        return bool(getattr(codecs.lookup(name), "_is_text_encoding", True))
    except LookupError:
        return False


def file_digest(path: str | Path, max_size: int = 1 << 62) -> str | None:
    """SHA-256 of a regular file's bytes (what the cache compares), None if it cannot be read."""
    try:
        return read_bytes(path, max_size)[1]
    except SourceError:
        return None
