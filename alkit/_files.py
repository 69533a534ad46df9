"""Files alkit writes: atomic, fsynced, with the user's umask; where its caches live; stable
hashes of configurations (cache keys and result names)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path",
    "write_json_atomic",
    "apply_umask",
    "current_umask",
    "alkit_home",
    "stable_hash",
]


def _umask_from_proc() -> int | None:
    """The umask from ``/proc/self/status`` (Linux ≥ 4.7), or ``None`` where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _umask_by_setting() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


# Where /proc has no Umask line, the umask is read once here, at import: setting and restoring it
# later would race with other threads creating files (they would get the temporary mask).
_IMPORT_UMASK = _umask_from_proc()
if _IMPORT_UMASK is None:  # pragma: no cover - not Linux
    _IMPORT_UMASK = _umask_by_setting()


def current_umask() -> int:
    """The process's file mode creation mask, read without changing it where the OS allows.

    On Linux the mask is read from ``/proc/self/status`` on every call (so a mask changed after
    import counts); elsewhere it is the mask at import time.
    """
    mask = _umask_from_proc()
    return _IMPORT_UMASK if mask is None else mask


def apply_umask(path: str | os.PathLike, mode: int = 0o666) -> None:
    """Give ``path`` the permissions a plain ``open``/``mkdir`` would: ``mode & ~umask``.

    ``tempfile.mkstemp`` creates files with mode 0600 and ``mkdtemp`` directories with 0700
    whatever the umask; a file renamed into place from them would stay private to its owner.
    Use ``mode=0o777`` for directories.
    """
    os.chmod(path, mode & ~current_umask())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    A crash leaves either the old file or none, never a truncated one. The file ends with the
    permissions a plain write would give it (0644 under umask 022), not mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        apply_umask(tmp_path)
        _fsync(tmp_path)  # the bytes reach the disk before the name does
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - a directory on a platform that cannot open one
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems without fsync (some network mounts)
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path, ".json") as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))


def stable_hash(obj: Any, length: int = 16) -> str:
    """A short sha256 of a JSON-serialisable object (sorted keys)."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def alkit_home() -> Path:
    """Root of alkit's caches: ``$ALKIT_HOME`` or ``~/.cache/alkit``."""
    return Path(os.environ.get("ALKIT_HOME", Path.home() / ".cache" / "alkit")).expanduser()
