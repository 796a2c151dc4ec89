"""A content-addressed file store for evidence: files are named by their sha256, never by users."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FileStore", "FileTooLarge", "StoredFile"]

_CHUNK = 64 * 1024


class FileTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the file is larger than the {in_words(limit)} limit: make it smaller (a PDF "
            "export, fewer pages) or split it into several pieces of evidence"
        )


def in_words(size: int) -> str:
    """`20 MB`, `256 KB`, `900 bytes`: how a person reads a size."""
    if size >= 1024 * 1024:
        mb = size / (1024 * 1024)
        return f"{mb:.0f} MB" if mb == int(mb) else f"{mb:.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int


class FileStore:
    """Files under `root/ab/cdef...`; writing the same content twice stores it once.

    Args:
        root: the directory (created if missing).
        max_bytes: the largest file accepted; larger uploads are refused while streaming.
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, chunks: Iterable[bytes]) -> StoredFile:
        """Stream chunks to disk, hashing as they come. Raises FileTooLarge past the limit."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FileTooLarge(self.max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            final = self._path(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)  # atomic: a reader never sees half a file
            return StoredFile(sha, size)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def open(self, sha256: str) -> Path:
        """The path of a stored file. Raises FileNotFoundError."""
        path = self._path(sha256)
        if not path.is_file():
            raise FileNotFoundError(sha256)
        return path

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        path = self._path(sha256)
        if path.is_file():
            path.unlink()
            return True
        return False
