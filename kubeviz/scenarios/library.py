"""The built-in scenarios: YAML files in ``library/``, stored under their own names as slugs.

Each teaches one part of the architecture.  They are data, read by the same parser as any
uploaded scenario, and put in the database the first time anything asks for a scenario in a
process (again only when a file changed).
"""

from __future__ import annotations

import threading
from pathlib import Path

from kubeviz.scenarios import document, services
from kubeviz.scenarios.models import Scenario

LIBRARY = Path(__file__).resolve().parent / "library"
_done = threading.Event()
_lock = threading.Lock()


def files() -> list[Path]:
    return sorted(LIBRARY.glob("*.yaml"))


def ensure() -> None:
    """Store (or refresh) every built-in scenario once per process."""
    if _done.is_set():
        return
    with _lock:
        if _done.is_set():
            return
        for path in files():
            doc = document.parse(path.read_text())
            slug = doc["metadata"]["name"]
            stored = Scenario.objects.filter(slug=slug).values_list("text", flat=True).first()
            if stored != document.dump(doc):
                services.scenario_create(doc=doc, builtin=True, slug=slug)
        _done.set()


def builtins() -> list[Scenario]:
    ensure()
    order = {document.parse(p.read_text())["metadata"]["name"]: i for i, p in enumerate(files())}
    return sorted(Scenario.objects.filter(builtin=True), key=lambda s: order.get(s.slug, 99))
