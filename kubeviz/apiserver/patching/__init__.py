"""The apiserver's PATCH engines, as pure functions over plain JSON-like dicts.

* :func:`json_merge_patch` - ``application/merge-patch+json`` (RFC 7386);
* :func:`strategic_merge_patch` - ``application/strategic-merge-patch+json``;
* :func:`server_side_apply` - ``application/apply-patch+yaml``, with field ownership;
* :func:`record_update` / :func:`fields_of` - ``metadata.managedFields`` bookkeeping for
  every other write.

None of them touches storage or mutates its arguments; the registry decides when to call them.
"""

from kubeviz.apiserver.patching.apply import ApplyConflict, fields_of, record_update, server_side_apply
from kubeviz.apiserver.patching.merge import json_merge_patch
from kubeviz.apiserver.patching.strategic import strategic_merge_patch

__all__ = [
    "ApplyConflict",
    "fields_of",
    "json_merge_patch",
    "record_update",
    "server_side_apply",
    "strategic_merge_patch",
]
