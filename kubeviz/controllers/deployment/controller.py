"""The Deployment controller's loop: roll a Deployment's pods from one template to the next.

Mirrors ``pkg/controller/deployment``: ``syncDeployment`` (deployment_controller.go) picks one
path per sync — status only while being deleted, scaling while paused or resized
(``sync``/``scale``, sync.go), the deprecated rollback annotation (rollback.go), else a rollout
step by strategy (``rolloutRolling``, rolling.go; ``rolloutRecreate``, recreate.go) — and
every path ends by writing the status and the Progressing condition (progress.go).  Each
template gets a ReplicaSet named ``<deployment>-<pod-template-hash>``; the ReplicaSet
controller does the pods.

What is simplified:

* A rolling-update step writes each old ReplicaSet once with its final size, where upstream
  may write one twice (first dropping unhealthy pods, then available ones), so such a step
  records one ScalingReplicaSet event instead of two.
* A write that meets a stale cache (409 Conflict, or AlreadyExists for a ReplicaSet not yet
  cached) ends the sync quietly: the newer object is on its way through the watch and brings
  a new sync with it.  A later look is queued as well, in case that event is lost.
* Orphaned ReplicaSets and deleted pods are mapped to their Deployments in the ``observe``
  hooks, which can read the shared cache, because ``Watch.keys`` sees only the object.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Mapping
from typing import Any

from kubeviz.client.informer import split_key
from kubeviz.client.labels import as_selector
from kubeviz.client.rest import DEPLOYMENTS, PODS, REPLICASETS, APIStatusError
from kubeviz.client.sharedcache import SharedCache
from kubeviz.controllers.base import (
    COMPONENT,
    RESYNC_SECONDS,
    Context,
    Controller,
    Observation,
    Watch,
    controller_ref,
    owner_key,
    queue_for,
    queue_key,
)
from kubeviz.controllers.deployment import helpers
from kubeviz.controllers.objects import meta, new_controller_ref, spec, status
from kubeviz.controllers.ownership import claim, is_controlled_by

Obj = dict[str, Any]

NAME = "deployment"
SCALING_REPLICASET = "ScalingReplicaSet"
#: When a write found the cache stale, look again after this long if no event comes first.
STALE_RETRY_SECONDS = 1.0
_NO_LIMIT = 2**31 - 1  # revisionHistoryLimit at MaxInt32 means 'keep everything'


class _Stale(Exception):
    """The cache is behind the apiserver; the watch brings the newer state and another sync."""


# --- event mapping (informer process) ---------------------------------------------------------


def _enqueue(cluster: str, keys: Iterable[str]) -> None:
    queue = queue_for(NAME)
    for key in keys:
        queue.add(queue_key(cluster, key))


def observe_replicaset(seen: Observation) -> None:
    """Offer an orphaned ReplicaSet to every Deployment whose selector matches it (adoption)."""
    if seen.event == "DELETED" or controller_ref(seen.obj) is not None:
        return
    namespace = meta(seen.obj).get("namespace") or ""
    cache = SharedCache(cluster=seen.cluster, component=COMPONENT)
    matching = [
        f"{namespace}/{meta(d)['name']}"
        for d in cache.lister(DEPLOYMENTS).list(namespace)
        if _selects(d, seen.obj)
    ]
    _enqueue(seen.cluster, matching)


def observe_pod(seen: Observation) -> None:
    """Wake a Recreate Deployment when one of its pods is gone: it may now start new pods."""
    if seen.event != "DELETED":
        return
    ref = controller_ref(seen.obj)
    if ref is None or ref.get("kind") != "ReplicaSet":
        return
    namespace = meta(seen.obj).get("namespace") or ""
    cache = SharedCache(cluster=seen.cluster, component=COMPONENT)
    rs = cache.lister(REPLICASETS).get(namespace, ref["name"])
    owner = controller_ref(rs) if rs is not None else None
    if owner is None or owner.get("kind") != "Deployment":
        return
    d = cache.lister(DEPLOYMENTS).get(namespace, owner["name"])
    if d is not None and (spec(d).get("strategy") or {}).get("type") == "Recreate":
        _enqueue(seen.cluster, [f"{namespace}/{owner['name']}"])


def _no_keys(_obj: Obj) -> list[str]:
    """Queue nothing for pod events themselves; ``observe_pod`` picks the ones that matter."""
    return []


def _selects(deployment: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    match = as_selector(spec(deployment).get("selector"))
    return not match.empty() and match.matches_object(obj)


# --- the sync ---------------------------------------------------------------------------------


def sync(ctx: Context, key: str) -> None:
    """Take one step of a Deployment's rollout (or resize) and report its status."""
    namespace, name = split_key(key)
    deployment = ctx.lister(DEPLOYMENTS).get(namespace, name)
    if deployment is None:
        return
    try:
        _Rollout(ctx, key, deployment).run()
    except _Stale:
        ctx.requeue_after(key, STALE_RETRY_SECONDS)


class _Rollout:
    """One sync of one Deployment; ``self.d`` and ``self.rss`` follow every write it makes."""

    def __init__(self, ctx: Context, key: str, deployment: Obj) -> None:
        self.ctx = ctx
        self.key = key
        self.d = deployment
        self.namespace = meta(deployment)["namespace"]
        self.rss: dict[str, Obj] = {}

    def run(self) -> None:
        """Choose this sync's path, as ``syncDeployment`` does."""
        if as_selector(spec(self.d).get("selector")).empty():
            self._selecting_all()
            return
        self.rss = {meta(rs)["name"]: rs for rs in self._claim_replicasets()}
        if meta(self.d).get("deletionTimestamp"):
            new_rs, old_rss = self.replicasets(create=False)
            self.sync_deployment_status(new_rs, old_rss)
            return
        self.check_paused_conditions()
        if spec(self.d).get("paused"):
            self.sync_scaling()
            return
        if helpers.rollback_to(self.d) is not None:
            self.rollback()
            return
        new_rs, old_rss = self.replicasets(create=False)
        active = helpers.active_replicasets([*old_rss, new_rs])
        if new_rs is not None and helpers.is_scaling_event(self.d, active):
            self.sync_scaling()
        elif (spec(self.d).get("strategy") or {}).get("type") == "Recreate":
            self.rollout_recreate()
        else:
            self.rollout_rolling()

    # --- reading ------------------------------------------------------------------------------

    def _claim_replicasets(self) -> list[Obj]:
        candidates = self.ctx.lister(REPLICASETS).list(self.namespace)
        selector = spec(self.d).get("selector")
        return claim(self.ctx.client, REPLICASETS, owner=self.d, candidates=candidates, selector=selector)

    def _pods_by_replicaset(self) -> dict[str, list[Obj]]:
        """Group the Deployment's pods by owning ReplicaSet uid, terminal ones included."""
        grouped: dict[str, list[Obj]] = {meta(rs)["uid"]: [] for rs in self.rss.values()}
        for pod in self.ctx.lister(PODS).list(self.namespace, spec(self.d).get("selector")):
            ref = controller_ref(pod)
            if ref is not None and ref.get("uid") in grouped:
                grouped[ref["uid"]].append(pod)
        return grouped

    def replicasets(self, *, create: bool) -> tuple[Obj | None, list[Obj]]:
        """Return the new ReplicaSet (made if asked and missing) and the old ones, revisions synced.

        ``getAllReplicaSetsAndSyncRevision``: the new ReplicaSet is the one running the
        Deployment's template; it carries the newest revision, and so does the Deployment.
        """
        existing = helpers.find_new_replicaset(self.d, self.rss.values())
        old_rss = [rs for rs in self.rss.values() if rs is not existing]
        new_rs = self._sync_new_replicaset(existing, old_rss, create=create)
        return new_rs, old_rss

    def _sync_new_replicaset(self, existing: Obj | None, old_rss: list[Obj], *, create: bool) -> Obj | None:
        new_revision = helpers.max_revision(old_rss) + 1
        if existing is None:
            return self._create_new_replicaset(old_rss, new_revision) if create else None
        annotations = helpers.new_replicaset_annotations(
            deployment=self.d,
            annotations=meta(existing).get("annotations"),
            new_revision=new_revision,
            exists=True,
        )
        min_ready = int(spec(self.d).get("minReadySeconds") or 0)
        if annotations != (meta(existing).get("annotations") or {}) or min_ready != int(
            spec(existing).get("minReadySeconds") or 0
        ):
            body = copy.deepcopy(existing)
            body["metadata"]["annotations"] = annotations
            body["spec"]["minReadySeconds"] = min_ready
            return self._update_replicaset(body)
        current = status(self.d)
        if (
            helpers.has_progress_deadline(self.d)
            and helpers.get_condition(current, helpers.PROGRESSING) is None
        ):
            found = helpers.found_new_rs_condition(meta(existing)["name"], now=self.ctx.now())
            current = helpers.set_condition(current, found)
        self.write_status(
            current, revision=meta(existing).get("annotations", {}).get(helpers.REVISION_ANNOTATION)
        )
        return existing

    def _create_new_replicaset(self, old_rss: list[Obj], new_revision: int) -> Obj:
        d = self.d
        template = spec(d).get("template") or {}
        pod_template_hash = helpers.compute_pod_template_hash(template, status(d).get("collisionCount"))
        rs_template = helpers.with_hash(template, pod_template_hash)
        body: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta(d)['name']}-{pod_template_hash}",
                "namespace": self.namespace,
                "labels": rs_template["metadata"]["labels"],
                "ownerReferences": [new_controller_ref(d)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": int(spec(d).get("minReadySeconds") or 0),
                "selector": helpers.selector_with_hash(spec(d).get("selector"), pod_template_hash),
                "template": rs_template,
            },
        }
        replicas = helpers.new_rs_replicas(deployment=d, all_rss=[*old_rss, body], new_rs=body)
        body["spec"]["replicas"] = replicas
        body["metadata"]["annotations"] = helpers.new_replicaset_annotations(
            deployment=d, annotations=None, new_revision=new_revision, exists=False
        )
        created, already_existed = self._create_or_adopt(body)
        name = meta(created)["name"]
        if not already_existed and replicas > 0:
            self.ctx.events.normal(
                d, SCALING_REPLICASET, f"Scaled up replica set {name} from 0 to {replicas}"
            )
        current = status(self.d)
        if not already_existed and helpers.has_progress_deadline(d):
            current = helpers.set_condition(
                current, helpers.new_rs_created_condition(name, now=self.ctx.now())
            )
        self.write_status(current, revision=str(new_revision))
        self.rss[name] = created
        return created

    def _create_or_adopt(self, body: Obj) -> tuple[Obj, bool]:
        """Create the new ReplicaSet; return it and whether it already existed.

        A ReplicaSet of that name that is ours and runs our template is the one a previous
        sync made.  Anything else is a hash collision: ``collisionCount`` goes up so the next
        sync hashes to a different name.
        """
        name = body["metadata"]["name"]
        try:
            return self.ctx.client.create(REPLICASETS, body, namespace=self.namespace), False
        except APIStatusError as exc:
            if exc.is_already_exists():
                found = self.ctx.lister(REPLICASETS).get(self.namespace, name)
                if found is None:
                    raise _Stale from exc
                template = spec(self.d).get("template") or {}
                if is_controlled_by(found, self.d) and helpers.equal_ignore_hash(
                    spec(found).get("template") or {}, template
                ):
                    return found, True
                collisions = int(status(self.d).get("collisionCount") or 0) + 1
                self.write_status({**status(self.d), "collisionCount": collisions})
                raise _Stale from exc
            if any(c.get("type") == "NamespaceTerminating" for c in exc.details.get("causes") or []):
                raise
            self._report_create_failure(name, exc)
            raise

    def _report_create_failure(self, name: str, exc: APIStatusError) -> None:
        message = f'Failed to create new replica set "{name}": {exc.message}'
        if helpers.has_progress_deadline(self.d):
            cond = helpers.new_condition(
                helpers.PROGRESSING, "False", helpers.FAILED_RS_CREATE, message, now=self.ctx.now()
            )
            # The failure to create is what matters, and it is raised next.
            with contextlib.suppress(APIStatusError, _Stale):
                self.write_status(helpers.set_condition(status(self.d), cond))
        self.ctx.events.warning(self.d, helpers.FAILED_RS_CREATE, message)

    # --- writing ------------------------------------------------------------------------------

    def write_status(self, new_status: Mapping[str, Any], *, revision: str | None = None) -> None:
        """Write the status (and the revision annotation) through ``status`` if they changed."""
        body = copy.deepcopy(self.d)
        if revision is not None:
            annotations = body["metadata"].setdefault("annotations", {})
            annotations[helpers.REVISION_ANNOTATION] = revision
        body["status"] = {k: v for k, v in new_status.items() if not (k == "conditions" and not v)}
        if body == self.d:
            return
        try:
            self.d = self.ctx.client.update_status(DEPLOYMENTS, body)
        except APIStatusError as exc:
            if exc.is_conflict() or exc.is_not_found():
                raise _Stale from exc
            raise

    def _update_replicaset(self, body: Obj) -> Obj:
        try:
            updated = self.ctx.client.update(REPLICASETS, body, namespace=self.namespace)
        except APIStatusError as exc:
            if exc.is_conflict() or exc.is_not_found():
                raise _Stale from exc
            raise
        self.rss[meta(updated)["name"]] = updated
        return updated

    def scale_replicaset(self, rs: Obj, size: int, *, direction: str | None = None) -> Obj:
        """Resize a ReplicaSet, refresh its replica annotations, and record the event."""
        current = self.rss.get(meta(rs)["name"], rs)
        old_size = int(spec(current).get("replicas", 1))
        if old_size == size and not helpers.replicas_annotations_need_update(current, self.d):
            return current
        body = copy.deepcopy(current)
        body["spec"]["replicas"] = size
        body["metadata"]["annotations"] = helpers.replicas_annotations(
            meta(current).get("annotations"), self.d
        )
        updated = self._update_replicaset(body)
        if old_size != size:
            way = direction or ("up" if size > old_size else "down")
            message = f"Scaled {way} replica set {meta(updated)['name']} from {old_size} to {size}"
            self.ctx.events.normal(self.d, SCALING_REPLICASET, message)
        return updated

    def _fresh(self, rs: Obj | None) -> Obj | None:
        return None if rs is None else self.rss.get(meta(rs)["name"], rs)

    def _all(self, new_rs: Obj | None, old_rss: list[Obj]) -> list[Obj]:
        return [r for r in (self._fresh(rs) for rs in [*old_rss, new_rs]) if r is not None]

    # --- scaling and cleanup (sync.go) ----------------------------------------------------------

    def sync_scaling(self) -> None:
        """Resize without rolling out (paused, or ``spec.replicas`` changed), then report."""
        new_rs, old_rss = self.replicasets(create=False)
        self.scale(new_rs, old_rss)
        if spec(self.d).get("paused") and helpers.rollback_to(self.d) is None:
            self.cleanup(old_rss)
        self.sync_deployment_status(self._fresh(new_rs), old_rss)

    def scale(self, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        """Bring the ReplicaSets' total to the Deployment's size, in proportion mid-rollout."""
        desired = int(spec(self.d).get("replicas", 1))
        only = helpers.find_active_or_latest(new_rs, old_rss)
        if only is not None:
            self.scale_replicaset(only, desired)
            return
        if helpers.is_saturated(self.d, new_rs):
            for rs in helpers.active_replicasets(old_rss):
                self.scale_replicaset(rs, 0)
            return
        if (spec(self.d).get("strategy") or {}).get("type") == "Recreate":
            return
        active = helpers.active_replicasets([*old_rss, new_rs])
        plan = helpers.proportional_scale(deployment=self.d, active_rss=active)
        for name, size in plan.sizes.items():
            self.scale_replicaset(self.rss[name], size, direction=plan.direction or None)

    def cleanup(self, old_rss: list[Obj]) -> None:
        """Delete the oldest spare ReplicaSets beyond ``revisionHistoryLimit``."""
        limit = spec(self.d).get("revisionHistoryLimit")
        if limit is None or int(limit) == _NO_LIMIT:
            return
        fresh = [r for r in (self._fresh(rs) for rs in old_rss) if r is not None]
        for rs in helpers.clean_up_old_replicasets(fresh, int(limit)):
            try:
                self.ctx.client.delete(REPLICASETS, meta(rs)["name"], namespace=self.namespace)
            except APIStatusError as exc:
                if not exc.is_not_found():
                    raise
            self.rss.pop(meta(rs)["name"], None)

    def check_paused_conditions(self) -> None:
        """Mark the Progressing condition paused or resumed, so a pause is never a timeout."""
        if not helpers.has_progress_deadline(self.d):
            return
        cond = helpers.get_condition(status(self.d), helpers.PROGRESSING)
        if cond is not None and cond.get("reason") == helpers.TIMED_OUT:
            return
        marked = cond is not None and cond.get("reason") == helpers.PAUSED
        paused = bool(spec(self.d).get("paused"))
        if paused and not marked:
            new = helpers.new_condition(
                helpers.PROGRESSING, "Unknown", helpers.PAUSED, "Deployment is paused", now=self.ctx.now()
            )
        elif marked and not paused:
            new = helpers.new_condition(
                helpers.PROGRESSING, "Unknown", helpers.RESUMED, "Deployment is resumed", now=self.ctx.now()
            )
        else:
            return
        self.write_status(helpers.set_condition(status(self.d), new))

    # --- rollouts (rolling.go, recreate.go) -----------------------------------------------------

    def rollout_rolling(self) -> None:
        """Grow the new ReplicaSet within maxSurge, else shrink old ones within maxUnavailable."""
        new_rs, old_rss = self.replicasets(create=True)
        assert new_rs is not None  # created when missing
        if self._reconcile_new(new_rs, old_rss) or self._reconcile_old(new_rs, old_rss):
            self.sync_rollout_status(new_rs, old_rss)
            return
        if helpers.deployment_complete(self.d, status(self.d)):
            self.cleanup(old_rss)
        self.sync_rollout_status(new_rs, old_rss)

    def _reconcile_new(self, new_rs: Obj, old_rss: list[Obj]) -> bool:
        desired = int(spec(self.d).get("replicas", 1))
        size = int(spec(new_rs).get("replicas", 1))
        if size == desired:
            return False
        if size > desired:
            return self._resized(new_rs, desired)
        target = helpers.new_rs_replicas(deployment=self.d, all_rss=self._all(new_rs, old_rss), new_rs=new_rs)
        return self._resized(new_rs, target)

    def _reconcile_old(self, new_rs: Obj, old_rss: list[Obj]) -> bool:
        active = helpers.active_replicasets(self._fresh(rs) for rs in old_rss)
        plan = helpers.reconcile_old_replicasets(
            deployment=self.d, new_rs=self._fresh(new_rs), old_rss=active
        )
        for rs in active:
            if meta(rs)["name"] in plan.replicas:
                self.scale_replicaset(rs, plan.replicas[meta(rs)["name"]])
        return bool(plan.replicas)

    def _resized(self, rs: Obj, size: int) -> bool:
        before = int(spec(self._fresh(rs) or rs).get("replicas", 1))
        self.scale_replicaset(rs, size)
        return before != size

    def rollout_recreate(self) -> None:
        """Scale every old ReplicaSet to zero, wait for their pods to be gone, then scale up."""
        new_rs, old_rss = self.replicasets(create=False)
        scaled = False
        for rs in helpers.active_replicasets(old_rss):
            scaled = self._resized(rs, 0) or scaled
        fresh_old = [r for r in (self._fresh(rs) for rs in old_rss) if r is not None]
        if scaled or helpers.old_pods_running(
            new_rs=new_rs, old_rss=fresh_old, pods_by_rs=self._pods_by_replicaset()
        ):
            self.sync_rollout_status(new_rs, old_rss)
            return
        if new_rs is None:
            new_rs, old_rss = self.replicasets(create=True)
        assert new_rs is not None  # created when missing
        self.scale_replicaset(new_rs, int(spec(self.d).get("replicas", 1)))
        if helpers.deployment_complete(self.d, status(self.d)):
            self.cleanup(old_rss)
        self.sync_rollout_status(new_rs, old_rss)

    # --- rollback (rollback.go) -------------------------------------------------------------------

    def rollback(self) -> None:
        """Roll back to the revision the deprecated rollback annotation names, then clear it."""
        new_rs, old_rss = self.replicasets(create=True)
        all_rss = self._all(new_rs, old_rss)
        wanted = helpers.rollback_to(self.d) or helpers.last_revision(all_rss)
        target = next((rs for rs in all_rss if wanted and helpers.revision(rs) == wanted), None)
        d = copy.deepcopy(self.d)
        if target is None:
            message = (
                "Unable to find last revision."
                if not wanted
                else "Unable to find the revision to rollback to."
            )
            self.ctx.events.warning(d, helpers.ROLLBACK_REVISION_NOT_FOUND, message)
        elif helpers.equal_ignore_hash(spec(d).get("template") or {}, spec(target).get("template") or {}):
            message = (
                f'The rollback revision contains the same template as current deployment "{meta(d)["name"]}"'
            )
            self.ctx.events.warning(d, helpers.ROLLBACK_TEMPLATE_UNCHANGED, message)
            target = None
        else:
            d["spec"]["template"] = helpers.template_without_hash(spec(target).get("template") or {})
            d["metadata"]["annotations"] = helpers.deployment_annotations_from(d, target)
        d["metadata"].setdefault("annotations", {}).pop(helpers.ROLLBACK_TO_ANNOTATION, None)
        try:
            self.d = self.ctx.client.update(DEPLOYMENTS, d)
        except APIStatusError as exc:
            if exc.is_conflict() or exc.is_not_found():
                raise _Stale from exc
            raise
        if target is not None:
            message = f'Rolled back deployment "{meta(d)["name"]}" to revision {wanted}'
            self.ctx.events.normal(self.d, helpers.ROLLBACK_DONE, message)

    # --- status (sync.go, progress.go) ----------------------------------------------------------

    def _calculate_status(self, new_rs: Obj | None, old_rss: list[Obj]) -> dict[str, Any]:
        return helpers.calculate_status(
            deployment=self.d,
            all_rss=self._all(new_rs, old_rss),
            new_rs=self._fresh(new_rs),
            now=self.ctx.now(),
        )

    def sync_deployment_status(self, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        """Report replica counts and availability, leaving the Progressing condition alone."""
        self.write_status(self._calculate_status(new_rs, old_rss))

    def sync_rollout_status(self, new_rs: Obj | None, old_rss: list[Obj]) -> None:
        """Report the rollout: counts, Available, Progressing and any ReplicaFailure.

        With nothing new to report, a rollout that is still under way is looked at again
        when its progress deadline would pass.
        """
        now = self.ctx.now()
        new_status = self._calculate_status(new_rs, old_rss)
        fresh_new = self._fresh(new_rs)
        if not helpers.has_progress_deadline(self.d):
            new_status = helpers.remove_condition(new_status, helpers.PROGRESSING)
        name = meta(fresh_new)["name"] if fresh_new is not None else None
        new_status = helpers.sync_progress_condition(
            deployment=self.d, status=new_status, new_rs_name=name, now=now
        )
        failure = helpers.replica_failure_condition(self._all(new_rs, old_rss), fresh_new)
        if failure is not None:
            new_status = helpers.set_condition(new_status, failure)
        else:
            new_status = helpers.remove_condition(new_status, helpers.REPLICA_FAILURE)
        if not new_status.get("conditions"):
            new_status.pop("conditions", None)
        if new_status == status(self.d):
            delay = helpers.progress_check_delay(self.d, new_status, now=now)
            if delay is not None:
                # A second of slack: the deadline must have passed when the next sync looks.
                self.ctx.requeue_after(self.key, max(delay, 0.0) + 1.0)
            return
        self.write_status(new_status)

    def _selecting_all(self) -> None:
        """Refuse a Deployment that selects every pod: it would fight every other controller."""
        self.ctx.events.warning(
            self.d, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required."
        )
        if int(status(self.d).get("observedGeneration") or 0) < int(meta(self.d).get("generation") or 0):
            self.write_status({**status(self.d), "observedGeneration": meta(self.d).get("generation")})


CONTROLLER = Controller(
    name=NAME,
    resync_seconds=RESYNC_SECONDS,
    sync=sync,
    watches=(
        Watch(DEPLOYMENTS),
        Watch(REPLICASETS, keys=owner_key("Deployment"), observe=observe_replicaset),
        Watch(PODS, keys=_no_keys, observe=observe_pod),
    ),
)
