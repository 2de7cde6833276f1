"""The watch stream over real Redis: replay, then live, never a gap or a duplicate."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeviz.store import bus, selectors, services, watch
from kubeviz.store.keys import Compacted, Event, Key

pytestmark = pytest.mark.django_db(transaction=True)

#: More than one replay batch, so the filtered replay pages.
REPLAYED = watch.REPLAY_BATCH + 30


def _write(cid: int, name: str, value: str = "v") -> int:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"k": value},
    }
    key = Key("", "configmaps", "default", name)
    if selectors.get(cid, key) is None:
        out = services.create(cluster_id=cid, key=key, body=body)
    else:
        out = services.update(cluster_id=cid, key=key, body=body)
    return int(out["metadata"]["resourceVersion"])


def _in_thread(fn, *args):  # a writer elsewhere, as another apiserver request would be
    def run():
        try:
            return fn(*args)
        finally:
            connection.close()

    return asyncio.to_thread(run)


async def _collect(cid: int, since: int, count: int, timeout: float = 15.0) -> list[Event]:
    out: list[Event] = []
    if count <= 0:
        return out
    stream = watch.stream(cid, since, progress_every=0.2)

    async def consume() -> None:
        async for item in stream:
            if isinstance(item, Event):
                out.append(item)
                if len(out) >= count:
                    return

    try:
        await asyncio.wait_for(consume(), timeout)
    finally:
        await stream.aclose()
    return out


@pytest.fixture
def cid() -> int:
    return services.cluster_create(name="watch-test", topology={}).pk


def test_replay_then_live_in_order(cid: int) -> None:
    start = selectors.revision(cid)[0]
    before = [_write(cid, f"a{i}") for i in range(3)]

    async def main() -> list[int]:
        task = asyncio.create_task(_collect(cid, start, 8))
        await asyncio.sleep(0.3)
        after = []
        for i in range(5):
            after.append(await _in_thread(_write, cid, f"b{i}"))
        got = await task
        assert [e.revision for e in got] == before + after
        return after

    asyncio.run(main())


def test_resume_from_the_middle_has_no_gap_and_no_duplicate(cid: int) -> None:
    revs = [_write(cid, "x", str(i)) for i in range(10)]

    async def main() -> None:
        got = await _collect(cid, revs[4], 5)
        assert [e.revision for e in got] == revs[5:]

    asyncio.run(main())


def _write_secret(cid: int, name: str) -> int:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "default"}}
    out = services.create(cluster_id=cid, key=Key("", "secrets", "default", name), body=body)
    return int(out["metadata"]["resourceVersion"])


def test_a_replay_for_one_resource_reads_only_it_and_then_follows_live_events(cid: int) -> None:
    start = selectors.revision(cid)[0]
    maps = []
    for i in range(REPLAYED):
        maps.append(_write(cid, f"m{i}"))
        _write_secret(cid, f"s{i}")

    async def main() -> None:
        stream = watch.stream(cid, start, progress_every=0.2, kind=("", "configmaps"))
        got: list[Event] = []
        try:
            while len(got) < REPLAYED:
                item = await asyncio.wait_for(stream.__anext__(), 10)
                if isinstance(item, Event):
                    got.append(item)
            assert [e.revision for e in got] == maps, "only ConfigMaps are replayed, each once, in order"
            assert {e.resource for e in got} == {"configmaps"}
            live_secret = await _in_thread(_write_secret, cid, "later")
            live_map = await _in_thread(_write, cid, "later")
            live: list[int] = []
            while live_map not in live:
                item = await asyncio.wait_for(stream.__anext__(), 10)
                if isinstance(item, Event):
                    live.append(item.revision)
            # Live events are not filtered here (the apiserver filters them), but none repeats.
            assert live == [live_secret, live_map]
        finally:
            await stream.aclose()

    asyncio.run(main())


def test_concurrent_writers_are_seen_once_each_in_revision_order(cid: int) -> None:
    start = selectors.revision(cid)[0]
    acked: list[int] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        try:
            for i in range(10):
                rev = _write(cid, f"w{w}-{i}")
                with lock:
                    acked.append(rev)
        finally:
            connection.close()

    async def main() -> None:
        task = asyncio.create_task(_collect(cid, start, 40, timeout=30))
        await asyncio.sleep(0.2)
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        await asyncio.to_thread(lambda: [t.join() for t in threads])
        got = await task
        assert [e.revision for e in got] == sorted(acked)

    asyncio.run(main())


def test_a_lost_announcement_is_recovered_from_history(cid: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Replacing the publisher simulates Redis dropping messages; nothing else can make it drop one here.
    start = selectors.revision(cid)[0]

    async def main() -> None:
        task = asyncio.create_task(_collect(cid, start, 2))
        await asyncio.sleep(0.3)
        monkeypatch.setattr(bus, "publish", lambda *a, **k: None)
        r1 = await _in_thread(_write, cid, "silent")
        monkeypatch.undo()
        r2 = await _in_thread(_write, cid, "loud")
        got = await task
        assert [e.revision for e in got] == [r1, r2]

    asyncio.run(main())


def test_a_compacted_revision_is_refused(cid: int) -> None:
    from kubeviz.store import compaction

    first = _write(cid, "a", "1")
    _write(cid, "a", "2")
    _write(cid, "b")
    compaction.compact(cluster_id=cid, window_seconds=0, now=10**12)

    async def main() -> None:
        with pytest.raises(Compacted):
            await _collect(cid, first - 1, 1, timeout=5)

    asyncio.run(main())


def test_a_slow_consumer_is_cut_off_instead_of_buffering_forever(
    cid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "MAX_BACKLOG", 5)
    start = selectors.revision(cid)[0]

    async def main() -> None:
        stream = watch.stream(cid, start, progress_every=0.2)
        first = await asyncio.wait_for(stream.__anext__(), 5)  # subscribed, then stalls
        del first
        for i in range(12):
            await _in_thread(_write, cid, f"s{i}")
        await asyncio.sleep(1.5)
        with pytest.raises(watch.TooSlow):
            for _ in range(20):
                await asyncio.wait_for(stream.__anext__(), 5)
        await stream.aclose()

    _write(cid, "seed")
    asyncio.run(main())


OPS = st.lists(
    st.tuples(st.sampled_from(["put", "delete"]), st.sampled_from(["a", "b", "c", "d"])),
    min_size=1,
    max_size=20,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, data=st.data())
def test_every_watch_from_any_earlier_revision_sees_each_acknowledged_write_once_in_order(
    cid: int, ops: list, data: st.DataObject
) -> None:
    start = selectors.revision(cid)[0]
    acked: list[int] = []
    for op, name in ops:
        key = Key("", "configmaps", "default", name)
        if op == "put":
            acked.append(_write(cid, name))
        elif selectors.get(cid, key) is not None:
            acked.append(int(services.delete(cluster_id=cid, key=key)["metadata"]["resourceVersion"]))
    points = [start, *acked[:-1]]
    since = data.draw(st.sampled_from(points), label="resume from")
    tail = [r for r in acked if r > since]

    async def main() -> None:
        got = await _collect(cid, since, len(tail))
        assert [e.revision for e in got] == tail

    asyncio.run(main())


def test_a_feed_that_stops_turning_ends_its_watchers_and_the_next_watch_gets_a_fresh_feed(
    cid: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A read that never returns stands for whatever holds a feed (a starved pool, a hung
    # socket); the watchdog must not depend on knowing which.
    monkeypatch.setattr(watch, "STALL_SECONDS", 0.5)
    hang, release = threading.Event(), threading.Event()
    real = selectors.revision

    def revision(cluster_id: int) -> tuple[int, int]:
        if hang.is_set() and threading.current_thread().name.startswith("watch-read"):
            release.wait(30)
        return real(cluster_id)

    monkeypatch.setattr(selectors, "revision", revision)
    start = real(cid)[0]

    async def main() -> None:
        stream = watch.stream(cid, start, progress_every=0.2)
        try:
            assert isinstance(await asyncio.wait_for(stream.__anext__(), 5), watch.Progress)
            hang.set()  # the feed's next poll never comes back
            with pytest.raises(watch.StoreError, match="stalled"):
                for _ in range(50):
                    await asyncio.wait_for(stream.__anext__(), 5)
        finally:
            await stream.aclose()
            hang.clear()
            release.set()
        # A watch that starts now gets a new feed, and live events again.
        task = asyncio.create_task(_collect(cid, start, 1, timeout=10))
        await asyncio.sleep(0.3)
        rev = await _in_thread(_write, cid, "after-the-stall")
        assert [e.revision for e in await task] == [rev]

    asyncio.run(main())
    assert any("has not turned" in r.getMessage() and "revision" in r.getMessage() for r in caplog.records)


def test_a_redis_read_that_hangs_past_its_timeout_is_replaced_and_nothing_is_missed(
    cid: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from redis.asyncio.client import PubSub

    monkeypatch.setattr(watch, "REDIS_SECONDS", 0.5)
    real = PubSub.get_message
    hung = []

    async def get_message(self, *args, **kwargs):
        if not hung:
            hung.append(self)
            await asyncio.sleep(3600)  # a read that ignores its own timeout
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(PubSub, "get_message", get_message)
    start = selectors.revision(cid)[0]

    async def main() -> None:
        task = asyncio.create_task(_collect(cid, start, 2, timeout=10))
        await asyncio.sleep(0.3)
        r1 = await _in_thread(_write, cid, "during-the-hang")
        await asyncio.sleep(2.0)  # the hung read is abandoned, a new subscription made
        r2 = await _in_thread(_write, cid, "after-it")
        assert [e.revision for e in await task] == [r1, r2]

    asyncio.run(main())
    assert hung
    assert any("Redis read hung" in r.getMessage() for r in caplog.records)
