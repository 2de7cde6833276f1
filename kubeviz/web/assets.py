"""The built front end's entry files, as Vite's manifest names them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ENTRY = "src/main.ts"


@dataclass(frozen=True)
class Entry:
    script: str
    styles: tuple[str, ...]


_cache: dict[tuple[Path, str], tuple[float, Entry | None]] = {}


def entry(name: str = ENTRY) -> Entry | None:
    """An entry's script and styles (paths under STATIC_URL), or None if it is not built."""
    manifest = Path(settings.FRONTEND_DIST) / ".vite" / "manifest.json"
    try:
        mtime = manifest.stat().st_mtime
    except OSError:
        return None
    cached = _cache.get((manifest, name))
    if cached and cached[0] == mtime:
        return cached[1]
    try:
        chunk = json.loads(manifest.read_text())[name]
        found: Entry | None = Entry(script=chunk["file"], styles=tuple(chunk.get("css", ())))
    except (OSError, ValueError, KeyError):
        found = None
    _cache[(manifest, name)] = (mtime, found)
    return found
