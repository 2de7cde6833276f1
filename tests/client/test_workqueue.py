"""The work queue keeps client-go's contract across processes, on a real Redis.

The first tests drive the queue directly.  A recording dispatcher stands in for the Celery
task and a fake clock stands in for time.  The last ones start real Celery workers
(``--pool=threads``) on the session's Redis, with the demo reconciler of ``workqueue_demo``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kombu.exceptions import OperationalError

from kubeviz.client import workqueue
from kubeviz.client.workqueue import WorkQueue, backoff, process, process_key
from tests.client import workqueue_demo as demo
from tests.conftest import ROOT


class RecordingTask:
    """Records dispatches instead of sending them: a full stand-in for ``process.apply_async``."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[tuple[str, float]] = []
        self.fail = fail

    def apply_async(self, args: list[str], countdown: float = 0.0, **options: Any) -> None:
        if self.fail:
            raise OperationalError("broker unreachable")
        self.calls.append((args[1], countdown))


def make_queue(*, lease_seconds: float = 30.0) -> tuple[WorkQueue, RecordingTask]:
    task = RecordingTask()
    return WorkQueue(f"q-{uuid.uuid4().hex[:8]}", task=task, lease_seconds=lease_seconds), task


# --- the contract, step by step -------------------------------------------------------------


def test_adds_of_a_dirty_key_coalesce_into_one_task() -> None:
    q, task = make_queue()
    for _ in range(50):
        q.add("default/web", now=100.0)
    q.add("default/db", now=100.0)
    assert task.calls == [("default/web", 0.0), ("default/db", 0.0)]
    assert q.depth() == 2


def test_a_key_is_claimed_by_one_worker_only() -> None:
    q, _ = make_queue()
    q.add("k", now=100.0)
    assert q.begin("k", owner="w1", now=100.0)
    assert not q.begin("k", owner="w2", now=100.0), "a second worker must not claim a key in progress"
    assert not q.begin("other", owner="w2", now=100.0), "a key that is not dirty cannot be claimed"
    assert [(c.key, c.owner, c.deadline) for c in q.processing()] == [("k", "w1", 130.0)]
    assert q.depth() == 0


def test_adds_during_processing_cause_exactly_one_more_reconcile() -> None:
    q, task = make_queue()
    q.add("k", now=100.0)
    assert q.begin("k", owner="w1", now=100.0)
    for _ in range(5):
        q.add("k", now=101.0)
    assert task.calls == [("k", 0.0)], "no task while the key is being processed"
    assert q.depth() == 1
    assert q.done("k", owner="w1", now=102.0)
    assert task.calls == [("k", 0.0), ("k", 0.0)]
    assert q.begin("k", owner="w2", now=102.0)
    assert not q.done("k", owner="w2", now=103.0), "nothing was added during the second run"
    assert len(task.calls) == 2
    assert q.depth() == 0 and q.processing() == []


def test_backoff_doubles_from_5ms_and_stops_at_1000s() -> None:
    assert [backoff(n) for n in range(5)] == [0.005, 0.01, 0.02, 0.04, 0.08]
    assert backoff(17) == 0.005 * 2**17 < 1000
    assert backoff(18) == 1000.0
    assert backoff(5000) == 1000.0


def test_rate_limited_adds_back_off_per_key_until_forgotten() -> None:
    q, task = make_queue()
    now = 100.0
    for _ in range(3):
        q.add_rate_limited("k", now=now)
        assert q.begin("k", owner="w", now=now + 1)
        q.done("k", owner="w", now=now + 1)
    assert [countdown for _, countdown in task.calls] == [0.005, 0.01, 0.02]
    assert q.num_requeues("k") == 3
    assert q.num_requeues("other") == 0
    q.forget("k")
    assert q.num_requeues("k") == 0
    assert q.add_rate_limited("k", now=now) == 0.005


def test_failure_during_processing_is_dispatched_by_done_with_its_backoff() -> None:
    q, task = make_queue()
    q.add("k", now=100.0)
    q.begin("k", owner="w", now=100.0)
    for _ in range(3):
        q.add_rate_limited("k", now=100.0)  # as if it had failed three times
    assert len(task.calls) == 1
    q.done("k", owner="w", now=100.0)
    # The first failure's 5 ms wake-up is still due; later ones do not push it back.
    assert task.calls[-1] == ("k", pytest.approx(0.005))


def test_a_delayed_key_is_not_begun_early_but_a_plain_add_brings_it_forward() -> None:
    q, task = make_queue()
    q.add_after("k", 10.0, now=100.0)
    assert task.calls == [("k", 10.0)]
    assert not q.begin("k", owner="w", now=100.0), "the key is not due for 10 s"
    assert q.waiting() == {"k": 110.0}
    assert q.add("k", now=101.0), "an event during the delay is worth a reconcile now"
    assert task.calls[-1] == ("k", 0.0)
    assert q.begin("k", owner="w", now=101.0)
    q.done("k", owner="w", now=101.0)
    assert not q.begin("k", owner="w", now=110.0), "the old 10 s wake-up finds nothing to do"


def test_reap_stale_returns_a_key_whose_worker_died() -> None:
    q, task = make_queue(lease_seconds=30.0)
    q.add("k", now=100.0)
    assert q.begin("k", owner="dead", now=100.0)
    assert q.reap_stale(now=129.0) == [], "the lease has not expired yet"
    assert q.renew("k", owner="dead", now=120.0), "a live owner can renew"
    assert q.reap_stale(now=149.0) == []
    assert q.reap_stale(now=151.0) == ["k"]
    assert task.calls[-1] == ("k", 0.0)
    assert q.processing() == [] and q.depth() == 1
    # The dead owner may wake up late: it can neither renew nor end the new claim.
    assert q.begin("k", owner="new", now=152.0)
    assert not q.renew("k", owner="dead", now=153.0)
    assert not q.done("k", owner="dead", now=153.0)
    assert [c.owner for c in q.processing()] == ["new"]


def test_reap_stale_redispatches_a_lost_wakeup_once() -> None:
    task = RecordingTask(fail=True)
    q = WorkQueue(f"q-{uuid.uuid4().hex[:8]}", task=task, lease_seconds=30.0)
    q.add("k", now=100.0)  # marked dirty, but the broker was down
    task.fail = False
    assert q.reap_stale(now=120.0) == [], "not overdue yet: its task may still be queued"
    assert q.reap_stale(now=131.0) == ["k"]
    assert task.calls == [("k", 0.0)]
    assert q.reap_stale(now=132.0) == [], "one redispatch per lease period, not one per reap"


def test_process_key_forgets_on_success_and_backs_off_on_failure() -> None:
    q, task = make_queue()
    calls: list[str] = []

    def flaky(key: str) -> None:
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("apiserver said 500")

    q.add("k")
    assert process_key(q, flaky, "k", owner="w") == "requeued"
    assert q.num_requeues("k") == 1 and q.processing() == []
    assert task.calls[-1] == ("k", pytest.approx(0.005, abs=0.002))
    assert process_key(q, flaky, "k", owner="w") == "synced"
    assert q.num_requeues("k") == 0
    assert process_key(q, flaky, "k", owner="w") == "skipped", "a duplicate delivery does nothing"
    assert calls == ["k", "k"]


def test_each_cluster_has_its_own_depth_and_last_reconcile_for_the_explorer() -> None:
    q, _ = make_queue()

    def slow_fail(key: str) -> None:
        if key.endswith("bad"):
            raise RuntimeError("no")

    for key in ("c1|default/a", "c1|default/b", "c1|default/bad", "c2|default/a", "c1*|x"):
        q.add(key)
    assert q.depth_of("c1|") == (3, 0)
    assert q.depth_of("c1*|") == (1, 0)  # a glob character in a name matches only itself
    assert q.last_reconcile("c1") is None
    assert process_key(q, slow_fail, "c1|default/a", owner="w") == "synced"
    done = q.last_reconcile("c1")
    assert done["key"] == "default/a" and done["result"] == "synced" and done["seconds"] >= 0
    assert process_key(q, slow_fail, "c1|default/bad", owner="w") == "requeued"
    assert q.last_reconcile("c1")["result"] == "requeued"
    assert q.last_reconcile("c2") is None
    assert q.depth_of("c1|") == (2, 0)  # default/b waits; default/bad waits out its backoff


def test_a_long_reconcile_keeps_its_lease() -> None:
    q, _ = make_queue(lease_seconds=0.15)
    reaped: list[list[str]] = []

    def slow(key: str) -> None:
        threading.Event().wait(0.45)  # three lease lengths of work
        reaped.append(q.reap_stale())

    q.add("k")
    assert process_key(q, slow, "k", owner="w") == "synced"
    assert reaped == [[]], "a live worker's claim must not be reaped"


def test_the_process_task_runs_the_registered_reconciler() -> None:
    name = f"q-{uuid.uuid4().hex[:8]}"
    seen: list[str] = []
    workqueue.register(name, seen.append)
    try:
        WorkQueue(name, task=RecordingTask()).add("default/web")
        assert process.apply(args=[name, "default/web"]).get() == "synced"
        assert process.apply(args=[name, "default/web"]).get() == "skipped"
        assert process.apply(args=["no-such-queue", "x"]).get() == "unregistered"
    finally:
        del workqueue.REGISTRY[name]
    assert seen == ["default/web"]


# --- real Celery workers ----------------------------------------------------------------------


def start_worker(*queues: str, concurrency: int = 4) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "kubeviz",
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            "-Q",
            ",".join(queues),
            "-I",
            "tests.client.workqueue_demo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=dict(os.environ),  # REDIS_URL and KUBEVIZ_REDIS_PREFIX come from the redis_url fixture
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(condition: Callable[[], bool], *, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or condition}")


def started(key: str) -> int:
    return int(demo.client().get(demo.record("started", key)) or 0)


def intervals(key: str) -> list[tuple[float, float]]:
    return [tuple(json.loads(x)) for x in demo.client().lrange(demo.record("intervals", key), 0, -1)]


def release(key: str) -> None:
    demo.client().rpush(demo.record("release", key), "go")


@pytest.fixture(scope="module")
def demo_queue(redis_url: str) -> Iterator[WorkQueue]:
    from kubeviz.celery import app

    app.conf.broker_url = redis_url
    worker = start_worker(demo.celery_queue())
    try:
        yield WorkQueue(demo.QUEUE, celery_queue=demo.celery_queue(), lease_seconds=demo.LEASE_SECONDS)
    finally:
        stop(worker)


def idle(q: WorkQueue) -> bool:
    return q.depth() == 0 and q.processing() == []


def test_worker_adds_during_processing_cause_exactly_one_more_reconcile(demo_queue: WorkQueue) -> None:
    keys = ["gate/0", "gate/1"]  # fewer than the worker's 4 threads: two stay free to misbehave
    for key in keys:
        demo_queue.add(key)
    wait_for(lambda: all(started(k) == 1 for k in keys), what="first reconciles (worker start)")

    def hammer() -> None:
        for _ in range(25):
            for key in keys:
                demo_queue.add(key)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert demo_queue.depth() == len(keys), "400 adds while processing leave each key dirty once"
    assert sorted(c.key for c in demo_queue.processing()) == keys
    assert [started(k) for k in keys] == [1] * len(keys), "no second worker took a key in progress"

    for key in keys:
        release(key)
    wait_for(lambda: all(started(k) == 2 for k in keys), what="the one extra reconcile")
    for key in keys:
        release(key)
    wait_for(lambda: idle(demo_queue) and all(len(intervals(k)) == 2 for k in keys), what="idle")
    time.sleep(0.3)  # give a wrongly dispatched third task the time to show itself
    assert [started(k) for k in keys] == [2] * len(keys)
    assert [demo.client().get(demo.record("overlaps", k)) for k in keys] == [None] * len(keys)


def test_worker_never_runs_a_key_twice_at_once_under_concurrent_adds(demo_queue: WorkQueue) -> None:
    keys = [f"slow/{i}" for i in range(6)]
    adds = dict.fromkeys(keys, 0)
    last_add = dict.fromkeys(keys, 0.0)
    lock = threading.Lock()
    stop_at = time.monotonic() + 2.0

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop_at:
            key = rng.choice(keys)
            with lock:
                adds[key] += 1
                last_add[key] = time.time()
            demo_queue.add(key)
            time.sleep(rng.uniform(0, 0.004))

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: idle(demo_queue), what="the queue to drain")
    wait_for(lambda: all(len(intervals(k)) == started(k) for k in keys), what="the last records")

    for key in keys:
        runs = sorted(intervals(key))
        assert runs, key
        for (_, end), (next_start, _) in zip(runs, runs[1:], strict=False):
            assert next_start >= end, f"{key} was reconciled by two workers at once"
        assert demo.client().get(demo.record("overlaps", key)) is None
        assert len(runs) < adds[key], f"{key}: adds while dirty must coalesce"
        assert runs[-1][0] > last_add[key], f"{key}: the last add was never reconciled"


def test_a_killed_worker_leaves_its_key_to_the_reaper(demo_queue: WorkQueue) -> None:
    key = "gate/killed"
    doomed_queue = f"{demo.celery_queue()}-doomed"
    doomed = start_worker(doomed_queue, concurrency=1)
    try:
        WorkQueue(demo.QUEUE, celery_queue=doomed_queue, lease_seconds=demo.LEASE_SECONDS).add(key)
        wait_for(lambda: started(key) == 1, what="the doomed worker to start the key")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        stop(doomed)
    assert [c.key for c in demo_queue.processing()] == [key], "the claim outlives its worker"
    assert demo_queue.add(key) is False, "an add cannot rescue it: done() will never come"
    assert demo_queue.reap_stale() == [], "the lease has not expired yet"

    # What Celery beat's reap task does, every few seconds, until the dead claim expires.
    wait_for(lambda: demo_queue.reap_stale() == [key], timeout=2 * demo.LEASE_SECONDS, what="the reaper")
    release(key)
    wait_for(lambda: started(key) == 2 and idle(demo_queue), what="the surviving worker to redo it")
    assert len(intervals(key)) == 1, "only the redo finished; the killed run never did"
