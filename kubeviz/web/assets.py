"""The built front end's entry files, as Vite's manifest names them.

Vite moves code that two entries share into chunks of their own, and a chunk's stylesheet goes
with it.  An entry's page therefore needs the stylesheets of every chunk the entry imports, not
only its own; this walks the static imports to find them, as Vite's backend-integration guide
describes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

ENTRY = "src/main.ts"


@dataclass(frozen=True)
class Entry:
    script: str
    styles: tuple[str, ...]
    #: The chunks the script imports statically, for ``<link rel="modulepreload">``.
    preloads: tuple[str, ...] = ()


_cache: dict[tuple[Path, str], tuple[float, Entry | None]] = {}


def resolve(manifest: dict[str, Any], name: str) -> Entry:
    """The entry ``name`` with its own and its imported chunks' stylesheets, in import order."""
    styles: list[str] = []
    preloads: list[str] = []
    seen: set[str] = set()

    def walk(key: str) -> None:
        if key in seen:
            return
        seen.add(key)
        chunk = manifest[key]
        for imported in chunk.get("imports", ()):
            walk(imported)
            file = manifest[imported]["file"]
            if file not in preloads:
                preloads.append(file)
        for css in chunk.get("css", ()):
            if css not in styles:
                styles.append(css)

    walk(name)
    return Entry(script=manifest[name]["file"], styles=tuple(styles), preloads=tuple(preloads))


def entry(name: str = ENTRY) -> Entry | None:
    """An entry's script, styles and preloads (paths under STATIC_URL), or None if it is not built."""
    manifest = Path(settings.FRONTEND_DIST) / ".vite" / "manifest.json"
    try:
        mtime = manifest.stat().st_mtime
    except OSError:
        return None
    cached = _cache.get((manifest, name))
    if cached and cached[0] == mtime:
        return cached[1]
    try:
        found: Entry | None = resolve(json.loads(manifest.read_text()), name)
    except (OSError, ValueError, KeyError, TypeError):
        found = None
    _cache[(manifest, name)] = (mtime, found)
    return found
