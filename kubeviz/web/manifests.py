"""Reading the manifests a person submits: safe, multi-document YAML with the API's limits.

Contract:

* ``load_documents(text)`` returns the non-empty documents of a YAML stream, in order, each
  a mapping.  Only the safe schema is read (no Python tags), anchors and aliases are refused
  (a few lines of aliases can expand into gigabytes once turned into JSON), and the text may be
  no larger than a request kube-apiserver accepts (3 MiB).  Anything else raises
  ``ManifestError`` with a message a person can act on and the document it concerns.
* ``resource_of(client, api_version, kind)`` finds the resource that serves a kind by asking
  the apiserver's discovery, as kubectl does; results are cached for the life of the process.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import yaml
from django.conf import settings

from kubeviz.client import rest

MAX_DOCUMENTS = 200


@dataclasses.dataclass
class ManifestError(Exception):
    message: str
    document: int | None = None  # 0-based
    field: str = ""
    causes: list[dict[str, str]] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def _refuse_aliases(text: str) -> None:
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise ManifestError(
                f"line {mark.line + 1}: YAML anchors and aliases (&name, *name) are not accepted; "
                "write the repeated part out in full"
            )


def load_documents(
    text: str, *, max_bytes: int | None = None, max_documents: int = MAX_DOCUMENTS
) -> list[dict[str, Any]]:
    """Return the non-empty documents of ``text``; ``ManifestError`` when it cannot be used."""
    limit = max_bytes or settings.KUBEVIZ_MAX_REQUEST_BYTES
    size = len(text.encode("utf-8"))
    if size > limit:
        raise ManifestError(
            f"the manifest is {size:,} bytes; the API accepts at most {limit:,} bytes in one request "
            "(3 MiB), so split it or move large data out of it"
        )
    try:
        _refuse_aliases(text)
        raw = list(
            yaml.load_all(text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader)
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(f"the YAML cannot be read: {where}{problem}") from exc
    docs = [d for d in raw if d is not None]
    if not docs:
        raise ManifestError("there is nothing to apply: the text holds no YAML document")
    if len(docs) > max_documents:
        raise ManifestError(
            f"{len(docs)} documents is too many for one submission; the most is {max_documents}"
        )
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise ManifestError(
                f"document {i + 1} is a {type(doc).__name__}, not an object with apiVersion, kind and metadata",
                document=i,
            )
        for key in ("apiVersion", "kind"):
            if not isinstance(doc.get(key), str) or not doc[key]:
                raise ManifestError(
                    f"document {i + 1}: {key} is required", document=i, field=key,
                    causes=[{"reason": "FieldValueRequired", "field": key, "message": "Required value"}],
                )  # fmt: skip
        meta = doc.get("metadata")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
            raise ManifestError(
                f"document {i + 1} ({doc['kind']}): metadata.name is required", document=i, field="metadata.name",
                causes=[{"reason": "FieldValueRequired", "field": "metadata.name", "message": "Required value"}],
            )  # fmt: skip
    return docs


_discovered: dict[str, dict[str, rest.Resource]] = {}
_lock = threading.Lock()


def resource_of(client: rest.Client, api_version: str, kind: str) -> rest.Resource | None:
    """Return the resource serving ``kind`` in ``api_version``, or None when none does."""
    with _lock:
        known = _discovered.get(api_version)
    if known is None:
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            body = client.request("GET", path)
        except rest.APIStatusError as exc:
            if exc.code == 404:
                return None
            raise
        known = {
            r["kind"]: rest.Resource(
                group, version, r["name"], namespaced=bool(r["namespaced"]), kind=r["kind"]
            )
            for r in body.get("resources", [])
            if "/" not in r["name"]
        }
        with _lock:
            _discovered[api_version] = known
    return known.get(kind)
