"""The protobuf body decoder: hand-built bodies, hostile bodies, and real kubectl bodies.

The bodies here are built with a tiny wire encoder and field numbers written out by hand
from upstream's message definitions, independently of ``messages.json``, so a wrong
number or name in the derived table makes these tests fail.  Go's protobuf marshaller
writes every non-pointer field even when zero; the bodies do the same where it matters.
"""

from __future__ import annotations

import base64
import http.server
import json
import random
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubeviz.apiserver import protobuf
from kubeviz.apiserver.protobuf import UnsupportedKind, decode_object, generate, go_duration, supports
from tests import tools

# --- a tiny protobuf wire encoder -------------------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative numbers travel as 64-bit two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def num(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def blob(field: int, data: bytes | str) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return varint(field << 3 | 2) + varint(len(raw)) + raw


def msg(field: int, *parts: bytes) -> bytes:
    return blob(field, b"".join(parts))


def entry(field: int, key: str, value: bytes) -> bytes:
    """One map entry; ``value`` is the already-encoded field 2."""
    return msg(field, blob(1, key), value)


def body(api_version: str, kind: str, obj: bytes) -> bytes:
    """Wrap an object message the way apimachinery's protobuf serializer does."""
    type_meta = msg(1, blob(1, api_version), blob(2, kind))
    return protobuf.MAGIC + type_meta + blob(2, obj) + blob(3, "") + blob(4, "")


def time_(field: int, seconds: int, nanos: int = 0) -> bytes:
    return msg(field, num(1, seconds), num(2, nanos))


def int_or_string(field: int, value: int | str) -> bytes:
    if isinstance(value, int):
        return msg(field, num(1, 0), num(2, value), blob(3, ""))
    return msg(field, num(1, 1), num(2, 0), blob(3, value))


def object_meta(name: str, *extra: bytes, namespace: str = "") -> bytes:
    """ObjectMeta as Go writes it: every non-pointer scalar present, zero or not."""
    return msg(
        1,
        blob(1, name),
        blob(2, ""),
        blob(3, namespace),
        blob(4, ""),
        blob(5, ""),
        blob(6, ""),
        num(7, 0),
        msg(8),  # creationTimestamp: the zero time, dropped by omitzero
        *extra,
    )


JAN_2 = 1767323045  # 2026-01-02T03:04:05Z

# --- round trips ------------------------------------------------------------------------


def test_namespace() -> None:
    obj = object_meta(
        "demo",
        entry(11, "team", blob(2, "a")),
        entry(12, "note", blob(2, "")),
        blob(14, "kubernetes"),
        blob(99, "an unknown field is skipped"),
    ) + msg(2, blob(1, "kubernetes"))
    obj += msg(
        3, blob(1, "Active"), msg(2, blob(1, "Ready"), blob(2, "True"), msg(4), blob(5, ""), blob(6, ""))
    )
    assert decode_object(body("v1", "Namespace", obj)) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "demo",
            "labels": {"team": "a"},
            "annotations": {"note": ""},
            "finalizers": ["kubernetes"],
        },
        "spec": {"finalizers": ["kubernetes"]},
        # an empty Time is Go's zero time, which JSON renders as null
        "status": {
            "phase": "Active",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": None}],
        },
    }


def test_secret_bytes_become_base64() -> None:
    secret_bytes = bytes(range(256))
    # a second creationTimestamp replaces the zero one, as in Go's unmarshaller
    obj = object_meta("s", time_(8, JAN_2), namespace="default")
    obj += entry(2, "bin", blob(2, secret_bytes)) + entry(2, "empty", blob(2, b""))
    obj += blob(3, "Opaque") + entry(4, "plain", blob(2, "text")) + num(5, 0)
    decoded = decode_object(body("v1", "Secret", obj))
    assert decoded == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default", "creationTimestamp": "2026-01-02T03:04:05Z"},
        "data": {"bin": base64.b64encode(secret_bytes).decode(), "empty": ""},
        "type": "Opaque",
        "stringData": {"plain": "text"},
        "immutable": False,  # a *bool that is set keeps its false
    }
    assert base64.b64decode(decoded["data"]["bin"]) == secret_bytes


def deployment_object() -> bytes:
    container = msg(
        2,
        blob(1, "web"),
        blob(2, "nginx:1.27"),
        blob(3, "nginx"),
        blob(3, "-g"),
        blob(5, ""),
        msg(6, blob(1, "http"), num(2, 0), num(3, 8080), blob(4, "TCP"), blob(5, "")),
        msg(7, blob(1, "MODE"), blob(2, "prod")),
        msg(
            8,
            entry(1, "cpu", msg(2, blob(1, "500m"))),
            entry(1, "memory", msg(2, blob(1, "128Mi"))),
            entry(2, "cpu", msg(2)),  # a Quantity with no string is zero
        ),
        # livenessProbe: the embedded ProbeHandler is inlined into the Probe
        msg(
            10,
            msg(1, msg(2, blob(1, "/healthz"), int_or_string(2, "http"), blob(3, ""), blob(4, "HTTP"))),
            num(2, 0),
            num(4, 10),
        ),
        blob(13, ""),
        num(16, 0),
    )
    # volume: VolumeSource and LocalObjectReference are both inlined
    volume = msg(1, blob(1, "config"), msg(2, msg(19, msg(1, blob(1, "web-config")), num(3, 420))))
    security = msg(
        14, num(4, 1000), blob(4, varint(2000) + varint(3000)), num(2, 0)
    )  # groups: unpacked then packed
    pod_spec = msg(2, volume, container, blob(3, "Always"), num(4, 30), blob(6, ""), security)
    template = msg(3, msg(1, entry(11, "app", blob(2, "web")), msg(8)), pod_spec)
    strategy = msg(4, blob(1, "RollingUpdate"), msg(2, int_or_string(1, 0), int_or_string(2, "25%")))
    spec = msg(
        2,
        num(1, 0),
        msg(2, entry(1, "app", blob(2, "web"))),
        template,
        strategy,
        num(5, 0),
        num(6, -1),
        num(7, 0),
    )
    meta = object_meta("web", time_(8, JAN_2, 999), num(10, -30), namespace="prod")
    return meta + spec + msg(3)


def deployment_body() -> bytes:
    return body("apps/v1", "Deployment", deployment_object())


def test_deployment() -> None:
    assert decode_object(deployment_body()) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "prod",
            "creationTimestamp": "2026-01-02T03:04:05Z",  # metav1.Time keeps whole seconds
            "deletionGracePeriodSeconds": -30,
        },
        "spec": {
            "replicas": 0,  # *int32: zero but set
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "volumes": [{"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}}],
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "command": ["nginx", "-g"],
                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                            "env": [{"name": "MODE", "value": "prod"}],
                            "resources": {
                                "limits": {"cpu": "500m", "memory": "128Mi"},
                                "requests": {"cpu": "0"},
                            },
                            "livenessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                                "periodSeconds": 10,
                            },
                        }
                    ],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {"supplementalGroups": [1000, 2000, 3000], "runAsUser": 0},
                },
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
            "revisionHistoryLimit": -1,
        },
        "status": {},
    }


@pytest.mark.parametrize("api_version", ["v1", "meta.k8s.io/v1", "apps/v1", "batch/v1"])
def test_delete_options(api_version: str) -> None:
    obj = num(1, 0) + msg(2, blob(1, "uid-1")) + blob(4, "Foreground") + blob(5, "All")
    assert decode_object(body(api_version, "DeleteOptions", obj)) == {
        "apiVersion": api_version,
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-1"},
        "propagationPolicy": "Foreground",
        "dryRun": ["All"],
    }


def test_lease_micro_times() -> None:
    spec = msg(2, blob(1, "node-a"), num(2, 40), time_(3, JAN_2, 123_456_789), time_(4, 0, 1_000), num(5, 0))
    decoded = decode_object(body("coordination.k8s.io/v1", "Lease", object_meta("node-a") + spec))
    assert decoded["spec"] == {
        "holderIdentity": "node-a",
        "leaseDurationSeconds": 40,
        "acquireTime": "2026-01-02T03:04:05.123456Z",
        "renewTime": "1970-01-01T00:00:00.000001Z",
        "leaseTransitions": 0,
    }


def test_embedded_json_raw_extension_and_fields_v1() -> None:
    fields = {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
    managed = msg(
        17,
        blob(1, "kubectl"),
        blob(2, "Apply"),
        blob(3, "apps/v1"),
        time_(4, JAN_2),
        blob(6, "FieldsV1"),
        msg(7, blob(1, json.dumps(fields))),
        blob(8, ""),
    )
    data = msg(2, blob(1, json.dumps({"spec": {"template": {"x": [1, 2.5, None]}}})))
    decoded = decode_object(
        body("apps/v1", "ControllerRevision", object_meta("rev", managed) + data + num(3, 2))
    )
    assert decoded["data"] == {"spec": {"template": {"x": [1, 2.5, None]}}}
    assert decoded["revision"] == 2
    assert decoded["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": "2026-01-02T03:04:05Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
    ]


def test_core_event_keeps_null_event_time() -> None:
    obj = object_meta("e", namespace="default") + msg(2, blob(1, "Pod"), blob(2, "default"), blob(3, "p"))
    obj += blob(3, "Started") + blob(4, "") + num(8, 0) + msg(10) + blob(14, "") + blob(16, "")
    decoded = decode_object(body("v1", "Event", obj))
    # eventTime is a non-pointer MicroTime: omitempty never drops a struct, and Go renders
    # its zero value as null; reportingComponent has no omitempty, so its "" stays.
    assert decoded["eventTime"] is None
    assert decoded["reportingComponent"] == ""
    assert "message" not in decoded and "count" not in decoded
    assert decoded["involvedObject"] == {"kind": "Pod", "namespace": "default", "name": "p"}
    assert decoded["reason"] == "Started"


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5µs"),
        (2_000_000, "2ms"),
        (1_500_000_000, "1.5s"),
        (3_723_000_000_000, "1h2m3s"),
        (3_600_000_000_000, "1h0m0s"),
        (-90_000_000_000, "-1m30s"),
    ],
)
def test_go_duration(nanoseconds: int, text: str) -> None:
    assert go_duration(nanoseconds) == text


def test_supported_kinds_match_the_served_resources() -> None:
    served = yaml.safe_load((Path(__file__).parents[2] / "kubeviz/apiserver/resources.yaml").read_text())
    for resource in served:
        api_version = (
            f"{resource['group']}/{resource['version']}" if resource["group"] else resource["version"]
        )
        assert supports(api_version, resource["kind"]), resource
    assert supports("autoscaling/v1", "Scale") and supports("v1", "Binding")


def test_table_references_resolve() -> None:
    kinds, messages = protobuf._table()
    known = set(messages) | protobuf._SPECIAL | protobuf._SCALARS
    assert set(kinds.values()) <= set(messages)
    for name, fields in messages.items():
        for field in fields.values():
            assert field.type in known, (name, field)
            assert field.key in (None, "string"), (name, field)


def test_generator_reads_protos_and_go_tags() -> None:
    proto = """
    syntax = "proto2";
    package k8s.io.api.demo.v1;
    import "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto";
    /* a block comment */
    message Widget {
      // the object's metadata
      optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
      optional WidgetSource source = 2;
      repeated int64 sizes = 3;
      map<string, bytes> blobs = 4;
      optional int32 replicas = 5;
      optional string mode = 6;
      optional .k8s.io.apimachinery.pkg.apis.meta.v1.Time created = 7;
    }
    """
    go = textwrap.dedent(
        """
    type Widget struct {
    \tmetav1.TypeMeta `json:",inline"`
    \tMetadata metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
    \tWidgetSource `json:"" protobuf:"bytes,2,opt,name=source"` // embedded
    \tSizes []int64 `json:"sizes,omitempty" protobuf:"varint,3,rep,name=sizes"`
    \tBlobs map[string][]byte `json:"blobs" protobuf:"bytes,4,rep,name=blobs"`
    \tReplicas *int32 `json:"replicas,omitempty" protobuf:"varint,5,opt,name=replicas"`
    \tMode string `json:"modeName,omitempty" protobuf:"bytes,6,opt,name=mode"`
    \tCreated metav1.Time `json:"created,omitempty,omitzero" protobuf:"bytes,7,opt,name=created"`
    \tLocal string `json:"-" protobuf:"bytes,8,opt,name=local"`
    }
    type WidgetList []Widget
    """
    )
    package, messages = generate.parse_proto(proto)
    assert package == "k8s.io.api.demo.v1"
    widget = messages["k8s.io.api.demo.v1.Widget"]
    assert widget[1].type == "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert widget[2].type == "k8s.io.api.demo.v1.WidgetSource"
    assert widget[3].repeated and widget[3].type == "int64"
    assert (widget[4].map_key, widget[4].type, widget[4].repeated) == ("string", "bytes", False)
    structs, others = generate.parse_go(go)
    assert others == {"WidgetList"}
    fields = structs["Widget"]
    assert sorted(fields) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert fields[8].json_name is None  # never written to JSON
    assert fields[2].inline and fields[2].json_name == ""
    assert fields[5].pointer and fields[5].omitempty
    assert fields[6].json_name == "modeName" and not fields[6].pointer
    assert fields[7].omitzero and not fields[1].omitzero


# --- malformed and hostile bodies -------------------------------------------------------


def namespace_body() -> bytes:
    return body("v1", "Namespace", object_meta("demo") + msg(2) + msg(3))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "magic"),
        (b"{}", "magic"),
        (b"k8s\x01" + namespace_body()[4:], "magic"),
        (protobuf.MAGIC + b"\x0a", "truncated varint"),
        (protobuf.MAGIC + b"\x0a\xff\xff", "truncated varint"),
        (protobuf.MAGIC + b"\x0a\x7f\x0a\x00", "claims 127 bytes"),
        (protobuf.MAGIC + b"\x0a" + varint(1 << 62), "remain"),
        (protobuf.MAGIC + b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
        (protobuf.MAGIC + b"\x0b", "wire type 3"),
        (protobuf.MAGIC + blob(2, b""), "typeMeta"),
        (body("v1", "Namespace", b"") + blob(3, "gzip"), "contentEncoding"),
        (body("v1", "Namespace", b"") + blob(4, "application/json"), "contentType"),
        (body("v1", "Namespace", num(1, 5)), "wire type 0"),
        (body("v1", "Namespace", msg(1, num(1, 5))), "wire type 0"),
        (body("v1", "Secret", entry(2, "k", num(2, 1))), "wire type 0"),
        (body("apps/v1", "ControllerRevision", msg(2, blob(1, "{not json"))), "RawExtension"),
        (body("apps/v1", "ControllerRevision", msg(2, blob(1, "[" * 100_000))), "RawExtension"),
        (body("apps/v1", "Deployment", msg(2, msg(4, msg(2, msg(2, num(1, 7)))))), "IntOrString"),
    ],
)
def test_malformed_bodies_raise_value_error(raw: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_object(raw)


def test_truncated_bodies_raise_value_error() -> None:
    raw = deployment_body()
    start = raw.index(deployment_object())  # the object itself, after its tag and length
    for cut in range(len(protobuf.MAGIC) + 1, start + len(deployment_object())):
        if cut == start - len(varint(len(deployment_object()))) - 1:
            continue  # cut right after typeMeta: a complete envelope without an object
        with pytest.raises(ValueError):
            decode_object(raw[:cut])


def test_unknown_kind_is_its_own_error() -> None:
    with pytest.raises(UnsupportedKind, match="Widget"):
        decode_object(body("example.com/v1", "Widget", b""))
    with pytest.raises(UnsupportedKind):
        decode_object(body("apps/v1", "Namespace", b""))  # right kind, wrong group
    assert issubclass(UnsupportedKind, ValueError)


def test_nesting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = deployment_body()
    decode_object(raw)
    monkeypatch.setattr(protobuf, "MAX_DEPTH", 4)
    with pytest.raises(ValueError, match="nesting exceeds 4"):
        decode_object(raw)


def test_random_corruption_only_ever_raises_value_error() -> None:
    rng = random.Random(1234)
    original = deployment_body()
    decoded = 0
    for _ in range(3000):
        raw = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(protobuf.MAGIC), len(raw))] = rng.randrange(256)
        try:
            result = decode_object(bytes(raw))
        except ValueError:
            continue
        json.dumps(result)  # whatever decodes is plain JSON data
        decoded += 1
    assert decoded > 0  # some corruptions only touch values, and those still decode


# --- real bodies from kubectl -----------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Record every request body; answer writes with 201 and the JSON object kubectl expects."""

    bodies: list[tuple[str, str, str, bytes]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        self.bodies.append((self.command, self.path, self.headers.get("Content-Type", ""), raw))
        reply = json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "recorded"}}
        ).encode()
        self.send_response(201 if self.command in ("POST", "PUT") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str, str, bytes]]]]:
    bodies: list[tuple[str, str, str, bytes]] = []
    handler = type("Recorder", (_Recorder,), {"bodies": bodies})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.kubectl
@pytest.mark.parametrize(
    ("args", "path", "expected"),
    [
        (
            ["create", "ns", "demo"],
            "/api/v1/namespaces",
            {"metadata": {"name": "demo"}, "spec": {}, "status": {}},
        ),
        (
            ["create", "configmap", "settings", "--from-literal=mode=fast", "-n", "default"],
            "/api/v1/namespaces/default/configmaps",
            {"metadata": {"name": "settings", "namespace": "default"}, "data": {"mode": "fast"}},
        ),
        (
            ["create", "secret", "generic", "creds", "--from-literal=a=b"],
            "/api/v1/namespaces/default/secrets",
            {"metadata": {"name": "creds"}, "data": {"a": "Yg=="}},
        ),
        (
            ["create", "deployment", "web", "--image=nginx", "--replicas=0", "--port=8080"],
            "/apis/apps/v1/namespaces/default/deployments",
            None,
        ),
    ],
    ids=["namespace", "configmap", "secret", "deployment"],
)
def test_kubectl_protobuf_bodies(
    recorder: tuple[str, list[tuple[str, str, str, bytes]]], args: list[str], path: str, expected: dict | None
) -> None:
    url, bodies = recorder
    kubectl = str(tools.ensure()["kubectl"])
    base = [kubectl, "--server", url, "--validate=false"]
    subprocess.run([*base, *args], check=True, capture_output=True, timeout=60)
    posts = [(p, ct, raw) for method, p, ct, raw in bodies if method == "POST"]
    assert len(posts) == 1, bodies
    got_path, content_type, raw = posts[0]
    assert got_path.split("?")[0] == path
    assert content_type == protobuf.CONTENT_TYPE
    assert raw.startswith(protobuf.MAGIC)
    decoded = decode_object(raw)
    # kubectl's own JSON rendering of the same object is the reference for every field.
    dry_run = subprocess.run(
        [*base, "--dry-run=client", "-o", "json", *args], check=True, capture_output=True, timeout=60
    )
    assert decoded == json.loads(dry_run.stdout)
    if expected is not None:
        assert {k: v for k, v in decoded.items() if k not in ("apiVersion", "kind")} == expected
    else:
        assert decoded["spec"]["replicas"] == 0
        container = decoded["spec"]["template"]["spec"]["containers"][0]
        assert container["ports"] == [{"containerPort": 8080}]
