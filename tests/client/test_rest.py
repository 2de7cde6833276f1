"""The REST client against ``httpx.MockTransport``: paths, identity, errors, retries, backoff."""

from __future__ import annotations

import json

import httpx
import pytest

from kubeviz.client import (
    CONFIGMAPS,
    DEPLOYMENTS,
    NAMESPACES,
    PODS,
    APIStatusError,
    Backoff,
    Client,
    ConnectionFailed,
    PatchType,
    Preconditions,
    PropagationPolicy,
    Status,
    is_conflict,
    is_not_found,
    resource_for,
)
from kubeviz.client.rest import user_agent

BASE = "http://kubeviz.test/k8s/demo"


def status(code: int, reason: str, message: str = "nope", **details: object) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason}
    body["message"] = message
    if details:
        body["details"] = details
    return body


class Scripted:
    """Answers requests from a list of responses (or exceptions), recording what it was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def make(script: Scripted, *, backoff: Backoff = Backoff(), name: str | None = None) -> tuple[Client, list]:  # noqa: B008
    slept: list[float] = []
    client = Client(
        BASE,
        component="kube-controller-manager",
        name=name,
        transport=httpx.MockTransport(script),
        backoff=backoff,
        sleep=slept.append,
    )
    return client, slept


def ok(body: dict | None = None) -> httpx.Response:
    return httpx.Response(200, json=body or {"kind": "ConfigMap", "metadata": {"name": "x"}})


def test_paths_and_identity_reach_the_wire() -> None:
    script = Scripted(ok(), ok(), ok(), ok())
    client, _ = make(script, name="deployment-controller")
    client.get(DEPLOYMENTS, "web", namespace="default")
    client.get(NAMESPACES, "kube-system")
    client.get(DEPLOYMENTS, "web", namespace="ns1", subresource="scale")
    client.list(
        PODS, label_selector="app=web", field_selector="spec.nodeName=n1", limit=5, continue_token="t"
    )
    paths = [r.url.path for r in script.requests]
    assert paths == [
        "/k8s/demo/apis/apps/v1/namespaces/default/deployments/web",
        "/k8s/demo/api/v1/namespaces/kube-system",
        "/k8s/demo/apis/apps/v1/namespaces/ns1/deployments/web/scale",
        "/k8s/demo/api/v1/pods",
    ]
    assert dict(script.requests[3].url.params) == {
        "labelSelector": "app=web",
        "fieldSelector": "spec.nodeName=n1",
        "limit": "5",
        "continue": "t",
    }
    ua = script.requests[0].headers["User-Agent"]
    assert ua == "kube-controller-manager/v1.36.0 (linux/amd64) kubeviz/deployment-controller"
    assert user_agent("kube-scheduler") == "kube-scheduler/v1.36.0 (linux/amd64) kubeviz"
    with pytest.raises(ValueError):
        user_agent("kube scheduler")
    with pytest.raises(ValueError):
        NAMESPACES.path(namespace="default", name="x")
    assert resource_for("deployments", "apps") is DEPLOYMENTS
    assert resource_for("events", "events.k8s.io").group == "events.k8s.io"


def test_write_verbs_send_the_right_method_content_type_and_options() -> None:
    script = Scripted(*(ok() for _ in range(7)))
    client, _ = make(script, name="tests")
    obj = {"metadata": {"name": "x", "namespace": "ns"}, "data": {}}
    client.create(CONFIGMAPS, obj)
    client.update(CONFIGMAPS, obj, field_manager="m")
    client.patch(
        CONFIGMAPS,
        "x",
        [{"op": "add", "path": "/data/a", "value": "1"}],
        namespace="ns",
        patch_type=PatchType.JSON,
    )
    client.apply(CONFIGMAPS, obj, force=True)
    client.delete(
        CONFIGMAPS,
        "x",
        namespace="ns",
        propagation_policy=PropagationPolicy.FOREGROUND,
        grace_period_seconds=0,
        preconditions=Preconditions(uid="u1", resource_version="7"),
    )
    client.bind(namespace="ns", pod="p", node="n1", uid="u2")
    client.scale(DEPLOYMENTS, "web", replicas=3, namespace="ns")
    seen = [
        (r.method, r.url.path.removeprefix("/k8s/demo"), r.headers.get("content-type"))
        for r in script.requests
    ]
    assert seen == [
        ("POST", "/api/v1/namespaces/ns/configmaps", "application/json"),
        ("PUT", "/api/v1/namespaces/ns/configmaps/x", "application/json"),
        ("PATCH", "/api/v1/namespaces/ns/configmaps/x", "application/json-patch+json"),
        ("PATCH", "/api/v1/namespaces/ns/configmaps/x", "application/apply-patch+yaml"),
        ("DELETE", "/api/v1/namespaces/ns/configmaps/x", "application/json"),
        ("POST", "/api/v1/namespaces/ns/pods/p/binding", "application/json"),
        ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/web/scale", "application/merge-patch+json"),
    ]
    assert script.requests[1].url.params["fieldManager"] == "m"
    assert dict(script.requests[3].url.params) == {"fieldManager": "tests", "force": "true"}
    options = json.loads(script.requests[4].content)
    assert options["propagationPolicy"] == "Foreground" and options["gracePeriodSeconds"] == 0
    assert options["preconditions"] == {"uid": "u1", "resourceVersion": "7"}
    binding = json.loads(script.requests[5].content)
    assert binding["target"] == {"apiVersion": "v1", "kind": "Node", "name": "n1"}
    assert binding["metadata"] == {"name": "p", "namespace": "ns", "uid": "u2"}
    assert json.loads(script.requests[6].content) == {"spec": {"replicas": 3}}
    with pytest.raises(ValueError, match="namespaced"):
        client.create(CONFIGMAPS, {"metadata": {"name": "x"}})
    with pytest.raises(ValueError, match="server-side apply"):
        client.patch(CONFIGMAPS, "x", {}, namespace="ns", force=True)


def test_503_twice_then_200_honours_retry_after_then_backs_off() -> None:
    script = Scripted(
        httpx.Response(503, headers={"Retry-After": "3"}, json=status(503, "ServiceUnavailable")),
        httpx.Response(503, json=status(503, "ServiceUnavailable")),
        ok({"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "v"}}),
    )
    client, slept = make(script, backoff=Backoff(base=0.1, factor=2, cap=5, max_tries=5))
    assert client.get(CONFIGMAPS, "x", namespace="default")["data"] == {"k": "v"}
    assert slept == [3.0, 0.2]
    assert len(script.requests) == 3


def test_429_uses_the_status_retry_after_seconds() -> None:
    script = Scripted(httpx.Response(429, json=status(429, "TooManyRequests", retryAfterSeconds=2)), ok())
    client, slept = make(script)
    client.create(CONFIGMAPS, {"metadata": {"name": "x"}}, namespace="default")
    assert slept == [2.0]


def test_backoff_grows_to_its_cap_and_gives_up_after_max_tries() -> None:
    assert [Backoff(base=1, factor=2, cap=5).delay(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    script = Scripted(*(httpx.Response(500, json=status(500, "InternalError")) for _ in range(4)))
    client, slept = make(script, backoff=Backoff(base=0.5, factor=2, cap=1.5, max_tries=4))
    with pytest.raises(APIStatusError) as err:
        client.get(CONFIGMAPS, "x", namespace="default")
    assert err.value.code == 500 and err.value.reason == "InternalError"
    assert slept == [0.5, 1.0, 1.5]
    assert len(script.requests) == 4


@pytest.mark.parametrize(
    ("code", "reason", "check"),
    [
        (404, "NotFound", "is_not_found"),
        (409, "AlreadyExists", "is_already_exists"),
        (409, "Conflict", "is_conflict"),
        (410, "Expired", "is_expired"),
        (422, "Invalid", "is_invalid"),
    ],
)
def test_4xx_is_raised_at_once_with_its_status(code: int, reason: str, check: str) -> None:
    script = Scripted(httpx.Response(code, json=status(code, reason, "why", name="x", kind="configmaps")))
    client, slept = make(script)
    with pytest.raises(APIStatusError) as err:
        client.get(CONFIGMAPS, "x", namespace="default")
    assert slept == [] and len(script.requests) == 1
    e = err.value
    assert (e.code, e.reason, e.message, e.details["name"]) == (code, reason, "why", "x")
    helpers = ["is_not_found", "is_already_exists", "is_conflict", "is_expired", "is_invalid"]
    assert [h for h in helpers if getattr(e, h)()] == [check]
    assert is_not_found(e) == (check == "is_not_found") and is_conflict(e) == (check == "is_conflict")
    assert not is_not_found(ValueError("x"))


def test_an_error_body_that_is_not_a_status_becomes_one() -> None:
    script = Scripted(httpx.Response(404, text="<html>no</html>"))
    client, _ = make(script)
    with pytest.raises(APIStatusError) as err:
        client.get(CONFIGMAPS, "x", namespace="default")
    assert err.value.is_not_found() and "<html>no</html>" in err.value.message
    assert Status.from_response(httpx.Response(502, text="")).reason == "Unknown"


def test_connection_errors_are_retried_when_the_request_cannot_have_landed() -> None:
    refused = httpx.ConnectError("refused")
    script = Scripted(refused, refused, httpx.Response(201, json={"metadata": {"name": "x"}}))
    client, slept = make(script)
    assert (
        client.create(CONFIGMAPS, {"metadata": {"name": "x"}}, namespace="default")["metadata"]["name"] == "x"
    )
    assert slept == [0.1, 0.2]

    # A connection lost mid-write may have written: not retried.
    script = Scripted(httpx.ReadError("reset"))
    client, slept = make(script)
    with pytest.raises(ConnectionFailed):
        client.create(CONFIGMAPS, {"metadata": {"name": "x"}}, namespace="default")
    assert slept == [] and len(script.requests) == 1

    # ... but a read is.
    script = Scripted(httpx.ReadError("reset"), ok())
    client, slept = make(script)
    client.get(CONFIGMAPS, "x", namespace="default")
    assert slept == [0.1]

    script = Scripted(*(httpx.ConnectError("refused") for _ in range(2)))
    client, slept = make(script, backoff=Backoff(max_tries=2))
    with pytest.raises(ConnectionFailed):
        client.get(CONFIGMAPS, "x", namespace="default")
    assert slept == [0.1]


def test_a_failure_of_our_own_reads_back_as_the_same_status() -> None:
    causes = [{"reason": "TooMany", "field": "spec.objects", "message": "at most 100 objects"}]
    made = Status.failure(422, "Invalid", "too many", causes=causes, kind="clusters", name="c1")
    body = made.to_dict()
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == 422
    assert body["details"] == {"kind": "clusters", "name": "c1", "causes": causes}
    assert Status.from_dict(body) == made
    assert Status.failure(503, "ServiceUnavailable", "down").to_dict()["details"] == {}
