"""Expectations in Redis: what a controller asked for and has not yet seen come back."""

from __future__ import annotations

import uuid

import pytest

from kubeviz.controllers.expectations import Expectations


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock | None = None) -> Expectations:
    return Expectations(cluster=f"c-{uuid.uuid4().hex[:8]}", controller="replicaset", clock=clock or Clock())


def test_expectations_lifecycle() -> None:
    exp = make()
    assert exp.satisfied("ns/web")  # nothing recorded
    exp.expect_creations("ns/web", 2)
    exp.seal("ns/web")  # the reconcile that recorded it ended
    assert not exp.satisfied("ns/web")
    exp.creation_observed("ns/web")
    assert not exp.satisfied("ns/web")
    exp.creation_observed("ns/web")
    assert exp.satisfied("ns/web")
    exp.expect_deletions("ns/web", 1)
    exp.seal("ns/web")
    assert exp.pending("ns/web") == (0, 1)
    exp.deletion_observed("ns/web")
    assert exp.satisfied("ns/web")
    exp.forget("ns/web")
    assert exp.pending("ns/web") is None


@pytest.mark.parametrize(("elapsed", "satisfied"), [(299, False), (300, False), (301, True)])
def test_expectations_expire_after_five_minutes(elapsed: int, satisfied: bool) -> None:
    clock = Clock()
    exp = make(clock)
    exp.expect_creations("ns/web", 3)
    exp.seal("ns/web")
    clock.now += elapsed
    assert exp.satisfied("ns/web") is satisfied


def test_lowering_an_unknown_key_is_a_no_op() -> None:
    exp = make()
    exp.creation_observed("ns/other")
    exp.lower("ns/other", add=1, delete=1)
    assert exp.pending("ns/other") is None


def test_two_handles_share_one_record() -> None:
    # The sync (a Celery worker) records; the informer process lowers.
    clock = Clock()
    cluster = f"c-{uuid.uuid4().hex[:8]}"
    worker = Expectations(cluster=cluster, controller="replicaset", clock=clock)
    informer = Expectations(cluster=cluster, controller="replicaset", clock=clock)
    worker.expect_creations("ns/web", 1)
    worker.seal("ns/web")
    assert not informer.satisfied("ns/web")
    informer.creation_observed("ns/web")
    assert worker.satisfied("ns/web")


def test_a_record_its_writer_never_sealed_is_ignored() -> None:
    # The worker died between recording 5 creations and finishing: its counts mean nothing.
    exp = make()
    exp.expect_creations("ns/web", 5)
    assert exp.satisfied("ns/web")
    exp.expect_creations("ns/web", 5)
    exp.seal("ns/web")
    assert not exp.satisfied("ns/web")
    exp.seal("ns/other")  # sealing nothing records nothing
    assert exp.pending("ns/other") is None
