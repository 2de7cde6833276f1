"""The event recorder: core/v1 Events about objects, as ``kubectl describe`` shows them.

Mirrors client-go's ``tools/record`` (``EventRecorder`` with its ``EventCorrelator``): an
event names the object it is about, a reason, a message and the component that reports it.
A repeat of the same event within 10 minutes is not a new object: the existing Event's
``count`` goes up and its ``lastTimestamp`` moves, as upstream's aggregation does.

Spam filter, as upstream's ``EventSourceObjectSpamFilter``: one source may record 25 events
about one object at once, then one more every 5 minutes; the rest are dropped.  A
ReplicaSet scaled to 1,000 therefore gets 25 ``SuccessfulCreate`` events, not 1,000.

Recording never raises.  An event that cannot be written is logged and dropped, because
a reconcile must not fail for want of an event (upstream drops them too).

The repeat index lives in Redis (``{KUBEVIZ_REDIS_PREFIX}:events:{cluster}``, hash of
event identity -> Event name, expiring), because repeats come from whichever worker runs.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings

from kubeviz.client.rest import EVENTS, APIStatusError, Client, ClientError, PatchType
from kubeviz.client.sharedcache import default_redis

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
#: How long a repeat is folded into the first Event (client-go's maxLruCacheEntries window).
REPEAT_WINDOW_SECONDS = 600
#: client-go's defaultSpamBurst and defaultSpamQPS: 25 events, then one per 5 minutes.
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0

# KEYS: the bucket.  ARGV: now, burst, refill per second.  Returns 1 if a token was taken.
_TAKE_TOKEN = """
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local now, burst, qps = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * qps)
local taken = 0
if tokens >= 1 then tokens = tokens - 1; taken = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(burst / qps))
return taken
"""


_SCRIPTS: dict[int, Any] = {}


def _take_token_script(client: redis.Redis) -> Any:
    """Return the spam filter's script registered on ``client`` (sent by SHA after the first use)."""
    found = _SCRIPTS.get(id(client))
    if found is None:
        found = _SCRIPTS[id(client)] = client.register_script(_TAKE_TOKEN)
    return found


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def involved(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ObjectReference an Event uses for an object."""
    meta = obj.get("metadata") or {}
    ref = {
        "apiVersion": obj.get("apiVersion", "v1"),
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


class EventRecorder:
    """Records Events on behalf of one component (``deployment-controller``, ``default-scheduler``)."""

    def __init__(
        self,
        client: Client,
        *,
        component: str,
        cluster: str,
        host: str = "",
        redis_client: redis.Redis | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.component = component
        self.host = host
        self._clock = clock
        self._redis = redis_client
        self._index = f"{settings.KUBEVIZ_REDIS_PREFIX}:events:{cluster}"

    def normal(self, obj: Mapping[str, Any], reason: str, message: str, *, field_path: str = "") -> None:
        self.event(obj, NORMAL, reason, message, field_path=field_path)

    def warning(self, obj: Mapping[str, Any], reason: str, message: str, *, field_path: str = "") -> None:
        self.event(obj, WARNING, reason, message, field_path=field_path)

    def event(
        self, obj: Mapping[str, Any], kind: str, reason: str, message: str, *, field_path: str = ""
    ) -> None:
        """Record one event about ``obj`` (or count a repeat of it).

        ``field_path`` names the part of the object it concerns, as the kubelet's container
        events do (``spec.containers{nginx}``).
        """
        ref = involved(obj)
        if field_path:
            ref["fieldPath"] = field_path
        namespace = ref.get("namespace") or "default"
        identity = hashlib.sha1(
            "|".join(
                [
                    self.component,
                    ref["kind"],
                    namespace,
                    ref["name"],
                    ref["uid"],
                    field_path,
                    kind,
                    reason,
                    message,
                ]
            ).encode()
        ).hexdigest()
        now = self._clock()
        try:
            if not self._allowed(ref, now):
                return
            if self._count_repeat(identity, namespace, now):
                return
            name = f"{ref['name']}.{time.time_ns():x}"
            body = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": ref,
                "reason": reason,
                "message": message,
                "type": kind,
                "source": {"component": self.component, **({"host": self.host} if self.host else {})},
                "firstTimestamp": _stamp(now),
                "lastTimestamp": _stamp(now),
                "count": 1,
                "reportingComponent": self.component,
                "reportingInstance": self.host,
            }
            self.client.create(EVENTS, body, namespace=namespace)
            pipe = self._store().pipeline()
            pipe.set(f"{self._index}:{identity}", f"{namespace}/{name}", ex=REPEAT_WINDOW_SECONDS)
            pipe.set(f"{self._index}:{identity}:count", 1, ex=REPEAT_WINDOW_SECONDS)
            pipe.execute()
        except (ClientError, redis.RedisError) as exc:
            log.warning(
                "%s: could not record %s event %s on %s: %s", self.component, kind, reason, ref["name"], exc
            )

    def _allowed(self, ref: Mapping[str, Any], now: datetime) -> bool:
        """Take a token from the (source, object) bucket; False means the event is spam."""
        spam_key = "|".join(
            [
                self.component,
                self.host,
                ref["kind"],
                ref.get("namespace", ""),
                ref["name"],
                ref["uid"],
                ref["apiVersion"],
            ]
        )
        bucket = f"{self._index}:spam:{hashlib.sha1(spam_key.encode()).hexdigest()}"
        take = _take_token_script(self._store())
        return bool(take(keys=[bucket], args=[repr(now.timestamp()), SPAM_BURST, repr(SPAM_QPS)]))

    def _store(self) -> redis.Redis:
        return self._redis if self._redis is not None else default_redis()

    def _count_repeat(self, identity: str, namespace: str, now: datetime) -> bool:
        found = self._store().get(f"{self._index}:{identity}")
        if found is None:
            return False
        ns, _, name = found.decode().partition("/")
        count = int(self._store().incr(f"{self._index}:{identity}:count"))
        try:
            self.client.patch(
                EVENTS,
                name,
                {"count": count, "lastTimestamp": _stamp(now)},
                namespace=ns,
                patch_type=PatchType.MERGE,
            )
        except APIStatusError as exc:
            if exc.is_not_found():
                return False
            raise
        return True
