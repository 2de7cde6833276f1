"""The ServiceAccount controller's loop: make sure each active namespace has its ``default`` account.

Mirrors ``syncNamespace`` of ``pkg/controller/serviceaccount/serviceaccounts_controller.go``:
the key is a namespace; a namespace that is missing or not ``Active`` is left alone; an
account the cache already holds is not created again, and ``AlreadyExists`` (the cache is
behind) counts as done.  Deleting the ``default`` account brings its namespace back onto the
queue, so the account is recreated.
"""

from __future__ import annotations

from typing import Any

from kubeviz.client.rest import NAMESPACES, SERVICEACCOUNTS, APIStatusError
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Watch
from kubeviz.controllers.objects import meta, status

#: Upstream's ``serviceAccountsToEnsure``.
ACCOUNTS_TO_ENSURE = ("default",)


def account_keys(account: dict[str, Any]) -> list[str]:
    """Map an ensured ServiceAccount to its namespace's key (the namespace name)."""
    if meta(account).get("name") not in ACCOUNTS_TO_ENSURE:
        return []
    return [meta(account).get("namespace") or ""]


def sync(ctx: Context, key: str) -> None:
    """Create the ensured ServiceAccounts a namespace lacks."""
    namespace = ctx.lister(NAMESPACES).get(None, key)
    if namespace is None or status(namespace).get("phase", "Active") != "Active":
        return  # gone, or terminating: it may not hold new objects
    for name in ACCOUNTS_TO_ENSURE:
        if ctx.lister(SERVICEACCOUNTS).get(key, name) is not None:
            continue
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": key}}
        try:
            ctx.client.create(SERVICEACCOUNTS, body, namespace=key)
        except APIStatusError as exc:
            if exc.is_already_exists():
                continue
            if exc.code == 403:
                return  # the namespace started terminating meanwhile
            raise


CONTROLLER = Controller(
    name="serviceaccount",
    resync_seconds=RESYNC_SECONDS,
    sync=sync,
    watches=(
        Watch(NAMESPACES),
        Watch(SERVICEACCOUNTS, keys=account_keys),
    ),
)
