"""The StatefulSet controller's loop: pods ``<set>-0 .. <set>-N-1``, in order, at the right revision.

Mirrors ``sync``/``syncStatefulSet`` of ``pkg/controller/statefulset/stateful_set.go``,
``UpdateStatefulSet`` of ``stateful_set_control.go`` (revisions, the update, the status,
history truncation), the events of ``stateful_pod_control.go`` and the status write of
``stateful_set_status_updater.go``.  ``helpers.plan_update`` decides; this module reads the
listers, records ControllerRevisions, runs the plan and writes the status.

What is simplified:

* No PersistentVolumeClaims exist in kubeviz, so none is created, retained or deleted.
* Pods are claimed when their StatefulSet syncs; events of orphan pods do not wake it.
* A status write that conflicts is retried by a new sync, not by re-reading in a loop.
"""

from __future__ import annotations

from typing import Any

from kubeviz.client.informer import split_key
from kubeviz.client.labels import as_selector
from kubeviz.client.rest import CONTROLLERREVISIONS, PODS, STATEFULSETS, APIStatusError
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Watch, owner_key
from kubeviz.controllers.objects import meta, spec, status
from kubeviz.controllers.ownership import claim
from kubeviz.controllers.replicaset.helpers import SLOW_START_INITIAL_BATCH_SIZE, slow_start_batch
from kubeviz.controllers.statefulset import helpers

Obj = dict[str, Any]


def sync(ctx: Context, key: str) -> None:
    """Bring one StatefulSet's pods to its spec, record its revisions and report its status."""
    namespace, name = split_key(key)
    sts = ctx.lister(STATEFULSETS).get(namespace, name)
    if sts is None:
        return
    try:
        selector = as_selector(spec(sts).get("selector"))
    except ValueError:
        return  # an invalid selector will not become valid by retrying
    revisions = claim(
        ctx.client,
        CONTROLLERREVISIONS,
        owner=sts,
        candidates=ctx.lister(CONTROLLERREVISIONS).list(namespace, selector),
        selector=selector,
    )
    members = [p for p in ctx.lister(PODS).list(namespace) if helpers.is_member_of(sts, p)]
    pods = claim(ctx.client, PODS, owner=sts, candidates=members, selector=selector)
    revisions = helpers.sort_revisions(revisions)
    current, update, collisions = statefulset_revisions(ctx, sts, revisions=revisions)
    plan = helpers.plan_update(
        sts,
        pods=pods,
        current_set=helpers.apply_revision(sts, current),
        update_set=helpers.apply_revision(sts, update),
        current_revision=meta(current)["name"],
        update_revision=meta(update)["name"],
        now=ctx.now(),
    )
    rolled, error = run_plan(ctx, sts, plan=plan)
    new_status = write_status(
        ctx, sts, key=key, plan=plan, rolled=rolled, current=current, update=update, collisions=collisions
    )
    truncate_history(ctx, sts, pods=pods, revisions=revisions, live=(current, update))
    if error is not None:
        raise error
    min_ready = int(spec(sts).get("minReadySeconds") or 0)
    if min_ready > 0 and new_status.get("availableReplicas") != helpers.replicas_of(sts):
        ctx.requeue_after(key, float(min_ready))


# --- revisions -------------------------------------------------------------------------------


def statefulset_revisions(ctx: Context, sts: Obj, *, revisions: list[Obj]) -> tuple[Obj, Obj, int]:
    """Return the current and update revisions (storing the update one if new) and the collision count."""
    collisions = int(status(sts).get("collisionCount") or 0)
    candidate = helpers.new_revision(
        sts, revision=helpers.next_revision(revisions), collision_count=collisions
    )
    choice = helpers.choose_update_revision(revisions, candidate)
    if choice.action == "reuse":
        update = choice.revision
    elif choice.action == "rollback":
        # The template went back to an older revision: that one becomes the newest again.
        update = ctx.client.update(
            CONTROLLERREVISIONS, {**choice.revision, "revision": candidate["revision"]}
        )
    else:
        update, collisions = create_revision(
            ctx, sts, revision=int(candidate["revision"]), collisions=collisions
        )
    wanted = status(sts).get("currentRevision")
    current = next((r for r in revisions if meta(r)["name"] == wanted), update)
    return current, update, collisions


def create_revision(ctx: Context, sts: Obj, *, revision: int, collisions: int) -> tuple[Obj, int]:
    """Store a new revision, counting up the collision count while its name is taken by another."""
    while True:
        body = helpers.new_revision(sts, revision=revision, collision_count=collisions)
        namespace, name = meta(sts)["namespace"], meta(body)["name"]
        try:
            return ctx.client.create(CONTROLLERREVISIONS, body, namespace=namespace), collisions
        except APIStatusError as exc:
            if not exc.is_already_exists():
                raise
        existing = ctx.client.get(CONTROLLERREVISIONS, name, namespace=namespace)
        if helpers.equal_revision(existing, body):
            return existing, collisions  # made by an earlier, interrupted sync
        collisions += 1


def truncate_history(
    ctx: Context, sts: Obj, *, pods: list[Obj], revisions: list[Obj], live: tuple[Obj, Obj]
) -> None:
    """Delete revisions past ``revisionHistoryLimit`` that neither the status nor a pod uses."""
    names = [meta(r)["name"] for r in live]
    for revision in helpers.revisions_to_truncate(sts, pods=pods, revisions=revisions, live=names):
        try:
            ctx.client.delete(
                CONTROLLERREVISIONS, meta(revision)["name"], namespace=meta(revision)["namespace"]
            )
        except APIStatusError as exc:
            if not exc.is_not_found():
                raise


# --- pods ------------------------------------------------------------------------------------


def run_plan(ctx: Context, sts: Obj, *, plan: helpers.Plan) -> tuple[int, Exception | None]:
    """Run the plan's phases; return the rolling deletions done and the first error, if any.

    OrderedReady runs steps one by one and stops at the first failure; Parallel sends each
    phase in slow-start batches (1, 2, 4 ...) so a failing create is not repeated hundreds
    of times at once.  A failed phase stops the phases after it.
    """
    rolled = 0
    for phase in plan.phases:
        done: list[helpers.Step] = []
        error = _run_phase(ctx, sts, phase=phase, burst=plan.burst, done=done)
        rolled += sum(1 for step in done if step.rolling)
        if error is not None:
            return rolled, error
    return rolled, None


def _run_phase(
    ctx: Context, sts: Obj, *, phase: list[helpers.Step], burst: bool, done: list[helpers.Step]
) -> Exception | None:
    pending = iter(phase)

    def step_once() -> None:
        step = next(pending)
        run_step(ctx, sts, step=step)
        done.append(step)

    if burst:
        return slow_start_batch(len(phase), SLOW_START_INITIAL_BATCH_SIZE, step_once)[1]
    for _ in phase:
        try:
            step_once()
        except APIStatusError as exc:
            return exc
    return None


def run_step(ctx: Context, sts: Obj, *, step: helpers.Step) -> None:
    """Make one write and record it as upstream words it: ``create Pod web-0 in StatefulSet web successful``."""
    pod, namespace = step.pod, meta(sts)["namespace"]
    try:
        if step.verb == helpers.CREATE:
            ctx.client.create(PODS, pod, namespace=namespace)
        elif step.verb == helpers.DELETE:
            ctx.client.delete(PODS, meta(pod)["name"], namespace=namespace)
        else:
            ctx.client.update(PODS, pod, namespace=namespace)
    except APIStatusError as exc:
        if step.verb == helpers.DELETE and exc.is_not_found():
            return  # already gone: what the step wanted
        if not exc.is_already_exists():  # a create the cache has not shown yet: the next sync sees it
            ctx.events.warning(
                sts,
                f"Failed{step.verb.title()}",
                f"{step.verb} Pod {meta(pod)['name']} in StatefulSet {meta(sts)['name']} failed error: {exc.message}",
            )
        raise
    ctx.events.normal(
        sts,
        f"Successful{step.verb.title()}",
        f"{step.verb} Pod {meta(pod)['name']} in StatefulSet {meta(sts)['name']} successful",
    )


# --- status ----------------------------------------------------------------------------------


def write_status(
    ctx: Context,
    sts: Obj,
    *,
    key: str,
    plan: helpers.Plan,
    rolled: int,
    current: Obj,
    update: Obj,
    collisions: int,
) -> dict[str, Any]:
    """Write the set's status when it changed (``updateStatefulSetStatus``); return it."""
    counts = helpers.replica_status(
        plan.counted,
        min_ready_seconds=int(spec(sts).get("minReadySeconds") or 0),
        current_revision=meta(current)["name"],
        update_revision=meta(update)["name"],
        now=ctx.now(),
    )
    counts["currentReplicas"] -= rolled
    new_status = helpers.complete_rolling_update(
        sts,
        {
            "observedGeneration": int(meta(sts).get("generation") or 0),
            **counts,
            "currentRevision": meta(current)["name"],
            "updateRevision": meta(update)["name"],
            "collisionCount": collisions,
        },
    )
    if not helpers.inconsistent_status(sts, new_status):
        return new_status
    try:
        ctx.client.update_status(STATEFULSETS, {**sts, "status": helpers.status_json(new_status)})
    except APIStatusError as exc:
        if exc.is_conflict():  # a newer version is on its way through the watch
            ctx.enqueue(key)
        elif not exc.is_not_found():
            raise
    return new_status


CONTROLLER = Controller(
    name="statefulset",
    resync_seconds=RESYNC_SECONDS,
    sync=sync,
    watches=(
        Watch(STATEFULSETS),
        Watch(PODS, keys=owner_key("StatefulSet")),
    ),
    reads=(CONTROLLERREVISIONS,),
)
