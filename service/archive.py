"""An export as one zip archive: `manifest.json` (what it is, of whom, when, and each file
with its size and sha256), `data.json` (everything held, as JSON) and the files themselves.
The doors (the API, the CLI) write it; what goes in is the use case's (`usecases.exports`)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from typing import IO, Any

from service.usecases.exports import Export

__all__ = ["write_archive"]


def write_archive(export: Export, out: IO[bytes]) -> None:
    """Write `export` to `out` as a zip. A file that is gone from the store (erased since) is
    listed in the manifest as missing, not silently left out."""
    listed: list[dict[str, Any]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        data = json.dumps(export.data, indent=2, ensure_ascii=False, default=str)
        archive.writestr("data.json", data)
        for path, (sha256, source) in sorted(export.files.items()):
            if source is None:
                listed.append({"path": path, "sha256": sha256, "missing": True})
                continue
            digest, size = hashlib.sha256(), 0
            with open(source, "rb") as src, archive.open(path, "w") as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
            listed.append({"path": path, "sha256": digest.hexdigest(), "size": size})
        manifest = {
            "kind": export.kind,
            "subject": export.subject_id,
            "exported_at": export.exported_at.isoformat(),
            "data": "data.json",
            "files": listed,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
