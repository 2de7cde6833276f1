"""Hand-written SQL for the store's hot paths: one statement each, no ORM query building.

Every API request reads or writes a few rows by key; building those queries through the
ORM cost more CPU than running them.  The statements are plain SQL that SQLite and
PostgreSQL both accept (``RETURNING``, ``FOR UPDATE`` only where the backend has it), and
bodies go through the model field's own adaptation so each backend stores JSON its way.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import orjson
from django.db import connection

from kubeviz.store.keys import Key
from kubeviz.store.models import Cluster, History, Object

_KEY = '"cluster_id" = %s AND "group" = %s AND "resource" = %s AND "namespace" = %s AND "name" = %s'


def _params(cluster_id: int, key: Key) -> list[Any]:
    return [cluster_id, key.group, key.resource, key.namespace, key.name]


@cache
def _statements(vendor: str) -> dict[str, str]:
    obj, hist, clu = Object._meta.db_table, History._meta.db_table, Cluster._meta.db_table
    lock = " FOR UPDATE" if vendor == "postgresql" else ""
    return {
        "get": f'SELECT "body" FROM "{obj}" WHERE {_KEY}',
        "current": f'SELECT "id", "uid", "mod_revision", "body" FROM "{obj}" WHERE {_KEY}{lock}',
        "insert": (
            f'INSERT INTO "{obj}" ("cluster_id", "group", "resource", "namespace", "name", "uid", '
            f'"create_revision", "mod_revision", "body") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)'
        ),
        "update": f'UPDATE "{obj}" SET "body" = %s, "mod_revision" = %s WHERE "id" = %s',
        "delete": f'DELETE FROM "{obj}" WHERE "id" = %s',
        "log": (
            f'INSERT INTO "{hist}" ("cluster_id", "revision", "type", "group", "resource", "namespace", '
            f'"name", "written_at", "body") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)'
        ),
        "bump": f'UPDATE "{clu}" SET "revision" = "revision" + 1 WHERE "id" = %s RETURNING "revision"',
        "revision": f'SELECT "revision", "compacted" FROM "{clu}" WHERE "id" = %s',
        "list": (
            f'SELECT "body", (SELECT "revision" FROM "{clu}" WHERE "id" = %s) FROM "{obj}" '
            f'WHERE "cluster_id" = %s AND "group" = %s AND "resource" = %s'
        ),
    }


def statement(name: str) -> str:
    return _statements(connection.vendor)[name]


def dump(body: dict[str, Any]) -> Any:
    """Adapt a body for the JSON column of the current backend."""
    return Object._meta.get_field("body").get_db_prep_value(body, connection)


def load(value: Any) -> dict[str, Any]:
    """Read a JSON column value back (text on SQLite, already decoded on PostgreSQL)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def fetchone(name: str, params: list[Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cur:
        cur.execute(statement(name), params)
        return cur.fetchone()


def execute(name: str, params: list[Any]) -> None:
    with connection.cursor() as cur:
        cur.execute(statement(name), params)


def get(cluster_id: int, key: Key) -> dict[str, Any] | None:
    row = fetchone("get", _params(cluster_id, key))
    return None if row is None else load(row[0])


def current(cluster_id: int, key: Key) -> tuple[int, str, int, dict[str, Any]] | None:
    """Return (row id, uid, mod_revision, body) of a key, locking the row where supported."""
    row = fetchone("current", _params(cluster_id, key))
    return None if row is None else (row[0], row[1], row[2], load(row[3]))


def key_params(cluster_id: int, key: Key) -> list[Any]:
    return _params(cluster_id, key)


def list_rows(
    *,
    cluster_id: int,
    group: str,
    resource: str,
    namespace: str | None,
    name: str | None,
    after: tuple[str, str] | None,
) -> Iterator[tuple[dict[str, Any], int]]:
    """Yield (body, snapshot revision) for a resource in key order, from one statement.

    The revision comes from a scalar subquery of the same SELECT, so it describes exactly
    the snapshot the rows were read from.
    """
    query = statement("list")
    params: list[Any] = [cluster_id, cluster_id, group, resource]
    if namespace:
        query += ' AND "namespace" = %s'
        params.append(namespace)
    if name:
        query += ' AND "name" = %s'
        params.append(name)
    if after is not None:
        query += ' AND ("namespace" > %s OR ("namespace" = %s AND "name" > %s))'
        params += [after[0], after[0], after[1]]
    query += ' ORDER BY "namespace", "name"'
    with connection.cursor() as cur:
        cur.execute(query, params)
        while rows := cur.fetchmany(500):
            for body, snapshot in rows:
                yield load(body), int(snapshot)
