"""Read and decode: bytes to text the way Python itself would (BOM, PEP 263 cookie, CRLF)."""

from __future__ import annotations

import hashlib
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    path: Path
    display: str  # relative, /-separated: what every output shows
    kind: str  # "python" or "text"
    text: str


class SourceError(Exception):
    """Why a file could not be read; the message never quotes file content."""


def read_source(path: Path, display: str, kind: str, max_size: int) -> Source:
    try:
        size = path.stat().st_size
        if size > max_size:
            raise SourceError(f"file is {size} bytes, over the {max_size}-byte limit "
                              "(settings.max-file-size)")
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None
    return Source(path, display, kind, decode(data, kind))


def decode(data: bytes, kind: str) -> str:
    if b"\0" in data[:8192]:
        raise SourceError("file looks binary (NUL byte)")
    if kind == "python":
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            raise SourceError(f"bad encoding declaration: {exc.msg}") from None
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else "unknown encoding"
        raise SourceError(f"cannot decode as {encoding}: {reason}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes (what the cache compares), None if it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
