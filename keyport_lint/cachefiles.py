"""The cache's own files: the key that authenticates them (in the user's cache home, never the
project), the check that a cache folder holds nothing else, atomic writes, and the clean-up of
temporary files a killed run left."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from keyport_lint.errors import UserError

CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by keyport-lint.\n")
GITIGNORE = "# created by keyport-lint\n*\n"
OWN_NAMES = frozenset({"CACHEDIR.TAG", ".gitignore"})
TEMP_PREFIX = ".tmp-"


def key_file() -> Path:
    """Where the HMAC key lives: the user's cache home, never the project."""
    home = os.environ.get("XDG_CACHE_HOME")
    base = Path(home) if home and os.path.isabs(home) else Path.home() / ".cache"
    return base / "keyport-lint" / "key"


def load_key() -> bytes | None:
    """The user's cache key, created (0600) on first use; None when it cannot be kept."""
    path = key_file()
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
    except FileExistsError:
        pass  # another run made it meanwhile
    except OSError:
        return None
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    return None


def check_cache_folder(directory: Path) -> None:
    """Refuse a cache folder that holds anything but a cache (`cache-dir: .`, `src`): the
    cache writes a `.gitignore` of `*` and a CACHEDIR.TAG there, which would hide the folder."""
    try:
        names = set(os.listdir(directory))
    except FileNotFoundError:
        return
    except OSError:
        return  # unreadable: the first write says so, as a warning
    foreign = sorted(n for n in names if n not in OWN_NAMES and not _is_format_dir(n))
    gitignore = directory / ".gitignore"
    if not foreign and ".gitignore" in names:
        with contextlib.suppress(OSError):
            if not gitignore.read_text(encoding="utf-8", errors="replace").startswith(
                    "# created by keyport-lint"):
                foreign = [".gitignore"]
    if foreign:
        raise UserError(f"cache-dir {directory} holds files that are not the cache (e.g. "
                        f"{foreign[0]!r}); give an empty or new folder, such as "
                        ".keyport-lint-cache")


def _is_format_dir(name: str) -> bool:
    return len(name) >= 2 and name[0] == "v" and name[1:].isdigit()


def write_atomic(path: Path, data: bytes, temp_dir: Path) -> None:
    """Temporary file (named with this process's id), then rename: parallel runs never see a
    half-written file, and a run that dies mid-write leaves a name the next run can clean."""
    import tempfile  # only runs that write pay for it

    fd, tmp = tempfile.mkstemp(dir=temp_dir, prefix=f"{TEMP_PREFIX}{os.getpid()}-",
                               suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_orphaned_temps(folder: Path) -> None:
    """Temporary files whose writer is gone (killed mid-write: no handler ran)."""
    try:
        names = [n for n in os.listdir(folder) if n.startswith(TEMP_PREFIX)]
    except OSError:
        return
    for name in names:
        try:
            pid = int(name[len(TEMP_PREFIX):].split("-", 1)[0])
        except ValueError:
            pid = -1
        if pid > 0 and pid != os.getpid() and _alive(pid):
            continue
        if pid == os.getpid():
            continue
        with contextlib.suppress(OSError):
            os.unlink(folder / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
