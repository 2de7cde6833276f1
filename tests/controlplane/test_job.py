from __future__ import annotations

import json

from kubeviz.client import EVENTS, JOBS, NAMESPACES, PODS, APIStatusError
from tests.standin import eventually, wait_for

TRACKING = "batch.kubernetes.io/job-tracking"


def job(name: str, command: list[str], **spec: object) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            **spec,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36", "command": command}],
                }
            },
        },
    }


def get_job(plane, name: str) -> dict:
    return plane.client.get(JOBS, name, namespace="default")


def job_pods(plane, name: str) -> list[dict]:
    return plane.client.list(
        PODS, namespace="default", label_selector=f"batch.kubernetes.io/job-name={name}"
    ).items


def conditions(obj: dict) -> dict[str, dict]:
    return {c["type"]: c for c in obj.get("status", {}).get("conditions") or []}


def events_for(plane, name: str) -> list[tuple[str, str, str]]:
    items = plane.client.list(EVENTS, namespace="default").items
    return [(e["type"], e["reason"], e["message"]) for e in items if e["involvedObject"]["name"] == name]


def test_job_runs_pods_to_completion(plane):
    plane.kubectl(
        "apply", "-f", "-", input=json.dumps(job("sleepy", ["sleep", "1"], completions=3, parallelism=2))
    )

    def at_most_two_running():
        running = [p for p in job_pods(plane, "sleepy") if p["status"].get("phase") in ("Pending", "Running")]
        assert len(running) <= 2, "parallelism is 2"
        return conditions(get_job(plane, "sleepy")).get("Complete")

    wait_for(at_most_two_running, timeout=40, what="the Job to complete")
    plane.kubectl("wait", "--for=condition=complete", "job/sleepy", "--timeout=60s")
    done = get_job(plane, "sleepy")
    status = done["status"]
    assert status["succeeded"] == 3
    assert status.get("failed", 0) == 0 and status.get("active", 0) == 0
    assert status["ready"] == 0 and status["terminating"] == 0
    assert status["uncountedTerminatedPods"] == {}
    assert status["startTime"] <= status["completionTime"]
    conds = conditions(done)
    assert conds["SuccessCriteriaMet"]["reason"] == conds["Complete"]["reason"] == "CompletionsReached"
    assert status["completionTime"] == conds["Complete"]["lastTransitionTime"]

    pods = job_pods(plane, "sleepy")
    assert len(pods) == 3, "finished pods stay with their Job"
    assert all(p["status"]["phase"] == "Succeeded" for p in pods)
    assert all(TRACKING not in (p["metadata"].get("finalizers") or []) for p in pods), (
        "counted pods are freed"
    )
    uid = done["metadata"]["uid"]
    assert all(p["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] == uid for p in pods)
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == uid for p in pods)

    def recorded() -> None:
        seen = events_for(plane, "sleepy")
        assert sum(1 for _, reason, _m in seen if reason == "SuccessfulCreate") == 3
        assert ("Normal", "Completed", "Job completed") in seen

    eventually(recorded)
    table = plane.kubectl("get", "job", "sleepy").stdout
    assert "3/3" in table


def test_failing_job_exceeds_backoff_limit(plane):
    plane.client.create(JOBS, job("doomed", ["false"], backoffLimit=1))

    def failed():
        found = conditions(get_job(plane, "doomed")).get("Failed")
        return found if found and found["status"] == "True" else None

    cond = wait_for(failed, timeout=30, what="the Job to fail")
    assert cond["reason"] == "BackoffLimitExceeded"
    assert cond["message"] == "Job has reached the specified backoff limit"
    done = get_job(plane, "doomed")
    assert conditions(done)["FailureTarget"]["reason"] == "BackoffLimitExceeded"
    assert done["status"]["failed"] == 2, "one try and one retry"
    assert "completionTime" not in done["status"]
    assert len(job_pods(plane, "doomed")) == 2
    eventually(
        lambda: _assert_in(
            ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
            events_for(plane, "doomed"),
        )
    )


def test_active_deadline_fails_the_job_and_deletes_its_pods(plane):
    plane.client.create(JOBS, job("slow", ["sleep", "3600"], activeDeadlineSeconds=2))
    wait_for(lambda: get_job(plane, "slow")["status"].get("ready") == 1, timeout=15, what="a running pod")

    def failed():
        found = conditions(get_job(plane, "slow")).get("Failed")
        return found if found and found["status"] == "True" else None

    cond = wait_for(failed, timeout=20, what="the deadline to fail the Job")
    assert cond["reason"] == "DeadlineExceeded"
    assert cond["message"] == "Job was active longer than specified deadline"
    status = get_job(plane, "slow")["status"]
    assert status["failed"] == 1, "the pod killed at the deadline counts as failed"
    assert status.get("active", 0) == 0 and status["terminating"] == 0
    wait_for(lambda: job_pods(plane, "slow") == [], timeout=10, what="the Job's pods to be deleted")

    def recorded() -> None:
        seen = events_for(plane, "slow")
        assert ("Warning", "DeadlineExceeded", "Job was active longer than specified deadline") in seen
        assert any(reason == "SuccessfulDelete" for _, reason, _m in seen)

    eventually(recorded)


def test_ttl_after_finished_removes_the_job(plane):
    plane.client.create(JOBS, job("brief", ["true"], ttlSecondsAfterFinished=0))

    def gone():
        try:
            get_job(plane, "brief")
        except APIStatusError as exc:
            return exc.is_not_found()
        return False

    wait_for(gone, timeout=30, what="the finished Job to be deleted")
    wait_for(lambda: job_pods(plane, "brief") == [], timeout=15, what="its pods to follow it")


def test_suspended_job_starts_when_resumed(plane):
    plane.client.create(JOBS, job("later", ["true"], suspend=True))
    cond = wait_for(
        lambda: conditions(get_job(plane, "later")).get("Suspended"), timeout=15, what="Suspended"
    )
    assert (cond["status"], cond["reason"], cond["message"]) == ("True", "JobSuspended", "Job suspended")
    assert job_pods(plane, "later") == []
    assert "startTime" not in get_job(plane, "later")["status"]

    plane.kubectl("patch", "job", "later", "--type=merge", "-p", '{"spec":{"suspend":false}}')
    plane.kubectl("wait", "--for=condition=complete", "job/later", "--timeout=30s")
    done = get_job(plane, "later")
    resumed = conditions(done)["Suspended"]
    assert (resumed["status"], resumed["reason"], resumed["message"]) == (
        "False",
        "JobResumed",
        "Job resumed",
    )
    assert done["status"]["succeeded"] == 1

    def recorded() -> None:
        seen = events_for(plane, "later")
        assert ("Normal", "Suspended", "Job suspended") in seen and (
            "Normal",
            "Resumed",
            "Job resumed",
        ) in seen

    eventually(recorded)


def test_deleted_pod_counts_as_failed_and_is_replaced(plane):
    plane.client.create(JOBS, job("steady", ["sleep", "3600"], backoffLimit=3))
    wait_for(lambda: get_job(plane, "steady")["status"].get("ready") == 1, timeout=15, what="a running pod")
    (first,) = job_pods(plane, "steady")
    assert first["metadata"]["finalizers"] == [TRACKING]
    plane.kubectl("delete", "pod", first["metadata"]["name"], "--wait=false")

    wait_for(
        lambda: get_job(plane, "steady")["status"].get("failed") == 1, timeout=15, what="the failure counted"
    )
    names = lambda: {p["metadata"]["name"] for p in job_pods(plane, "steady")}  # noqa: E731
    wait_for(lambda: first["metadata"]["name"] not in names(), timeout=10, what="the deleted pod to go")
    # The replacement waits out the failure backoff (10 s at the default speed).
    wait_for(lambda: len(names()) == 1, timeout=25, what="a replacement pod")
    assert "Failed" not in conditions(get_job(plane, "steady"))


def test_deleting_a_running_job_frees_its_pods(plane):
    plane.client.create(JOBS, job("dropped", ["sleep", "3600"], parallelism=2, completions=2))
    wait_for(
        lambda: get_job(plane, "dropped")["status"].get("ready") == 2, timeout=15, what="two running pods"
    )
    plane.kubectl("delete", "job", "dropped", "--wait=false")
    # The garbage collector deletes the pods; the tracking finalizer must not keep them.
    wait_for(lambda: job_pods(plane, "dropped") == [], timeout=20, what="the orphaned pods to be deleted")


def test_namespace_with_a_running_job_can_be_deleted(plane):
    plane.kubectl("create", "namespace", "batch")
    body = job("worker", ["sleep", "3600"])
    body["metadata"]["namespace"] = "batch"
    plane.client.create(JOBS, body)

    def running():
        found = plane.client.list(PODS, namespace="batch").items
        return found and found[0]["status"].get("phase") == "Running"

    wait_for(running, timeout=15, what="the Job's pod to run")
    plane.kubectl("delete", "namespace", "batch", "--wait=false")

    def gone():
        try:
            plane.client.get(NAMESPACES, "batch")
        except APIStatusError as exc:
            return exc.is_not_found()
        return False

    # The tracking finalizer must not hold the pod, and so the namespace, for ever.
    wait_for(gone, timeout=25, what="the namespace to be deleted")


def _assert_in(item: object, items: list) -> None:
    assert item in items
