"""Label and field selector parsing and matching (kubeviz.apiserver.selectors)."""

from __future__ import annotations

import pytest

from kubeviz.apiserver import registry
from kubeviz.apiserver.errors import APIError
from kubeviz.apiserver.registry import Resource
from kubeviz.apiserver.selectors import (
    LabelSelector,
    Op,
    parse_field_selector,
    parse_label_selector,
    selector_from_label_selector_object,
    supported_fields,
)


def res(group: str, resource: str) -> Resource:
    found = registry.lookup(group, "v1", resource)
    assert found is not None, (group, resource)
    return found


def parse_error(fn, *args, **kwargs) -> APIError:
    with pytest.raises(APIError) as info:
        fn(*args, **kwargs)
    assert info.value.code == 400
    assert info.value.reason == "BadRequest"
    return info.value


# --- label selectors: operators -----------------------------------------------------------

LABELS = {"app": "web", "tier": "frontend", "count": "7", "empty": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app=web", True),
        ("app=db", False),
        ("app==web", True),
        ("app==db", False),
        ("app!=db", True),
        ("app!=web", False),
        ("missing!=x", True),  # absent keys satisfy !=
        ("app in (web,db)", True),
        ("app in (db,cache)", False),
        ("missing in (web)", False),
        ("app notin (db,cache)", True),
        ("app notin (web)", False),
        ("missing notin (web)", True),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("count>5", True),
        ("count>7", False),
        ("count<8", True),
        ("count<7", False),
        ("app>1", False),  # non-numeric label never compares
        ("missing>1", False),
        ("empty=", True),  # "k=" means the empty value
        ("app=", False),
        ("empty in ()", True),  # "()" is the set {""}
        ("app=web,tier=frontend", True),
        ("app=web,tier=backend", False),
        ("app=web,!missing,tier in (frontend)", True),
    ],
)
def test_label_operators_match(text: str, expected: bool) -> None:
    assert parse_label_selector(text).matches(LABELS) is expected


@pytest.mark.parametrize(
    ("text", "op", "values"),
    [
        ("k=v", Op.EQUALS, ("v",)),
        ("k==v", Op.DOUBLE_EQUALS, ("v",)),
        ("k!=v", Op.NOT_EQUALS, ("v",)),
        ("k in (b,a,b)", Op.IN, ("a", "b")),
        ("k notin (a)", Op.NOT_IN, ("a",)),
        ("k", Op.EXISTS, ()),
        ("!k", Op.DOES_NOT_EXIST, ()),
        ("k>3", Op.GREATER_THAN, ("3",)),
        ("k<3", Op.LESS_THAN, ("3",)),
        ("in=notin", Op.EQUALS, ("notin",)),  # keywords are plain words in key/value position
    ],
)
def test_label_operator_parsed(text: str, op: Op, values: tuple[str, ...]) -> None:
    (req,) = parse_label_selector(text).requirements
    assert (req.op, req.values) == (op, values)


def test_whitespace_is_tolerated() -> None:
    sel = parse_label_selector("  app = web ,\ttier  in ( frontend , backend ) , ! gone ")
    assert [str(r) for r in sel.requirements] == ["app=web", "!gone", "tier in (backend,frontend)"]
    assert sel.matches(LABELS)


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_selector_matches_everything(text: str) -> None:
    sel = parse_label_selector(text)
    assert sel.empty
    assert sel.matches({}) and sel.matches(None) and sel.matches(LABELS)


def test_prefixed_keys_are_accepted() -> None:
    sel = parse_label_selector("app.kubernetes.io/name=web,kubernetes.io/os in (linux)")
    assert sel.matches({"app.kubernetes.io/name": "web", "kubernetes.io/os": "linux"})
    assert not sel.matches({"app.kubernetes.io/name": "web", "kubernetes.io/os": "windows"})


def test_canonical_string_sorts_by_key() -> None:
    assert str(parse_label_selector("z=1,a notin (y,x),!m,k")) == "a notin (x,y),k,!m,z=1"


def test_empty_slots_in_sets_mean_empty_value() -> None:
    (req,) = parse_label_selector("k in (,a,,b,)").requirements
    assert req.values == ("", "a", "b")


# --- label selectors: errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a=b,", "found '', expected: identifier after ','"),
        ("a,,b", "found ',', expected: identifier after ','"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("(a)", "found '(', expected: !, identifier, or 'end of string'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("! =", "unable to parse requirement: found '=', expected: identifier"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("a!b", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ],
)
def test_label_syntax_errors(text: str, message: str) -> None:
    assert parse_error(parse_label_selector, text).message == message


def test_invalid_label_key_is_rejected() -> None:
    msg = parse_error(parse_label_selector, "-bad=x").message
    assert msg.startswith('unable to parse requirement: Invalid value: "-bad": name part must consist of')
    assert "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'" in msg


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Example.com/app=x", '"Example.com/app": prefix part a lowercase RFC 1123 subdomain'),
        ("/app=x", "prefix part must be non-empty"),
        ("a/b/c=x", '"a/b/c": a qualified name must consist of'),
        ("a" * 64, "name part must be no more than 63 characters"),
    ],
)
def test_invalid_label_key_forms(text: str, fragment: str) -> None:
    assert fragment in parse_error(parse_label_selector, text).message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a=-x", 'values[0]: Invalid value: "-x": a valid label must be an empty string'),
        ("a in (ok,bad_)", 'values[1]: Invalid value: "bad_"'),
        ("a=" + "v" * 64, "must be no more than 63 characters"),
        ("a>x", "values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"),
    ],
)
def test_invalid_label_values(text: str, fragment: str) -> None:
    msg = parse_error(parse_label_selector, text).message
    assert msg.startswith("unable to parse requirement: ")
    assert fragment in msg


# --- structured selectors -----------------------------------------------------------------


def test_structured_selector_combines_labels_and_expressions() -> None:
    sel = selector_from_label_selector_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                {"key": "count", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert sel.matches(LABELS)
    assert not sel.matches({**LABELS, "legacy": "1"})
    assert not sel.matches({**LABELS, "env": "prod"})
    assert not sel.matches({**LABELS, "tier": "backend"})
    assert not sel.matches({k: v for k, v in LABELS.items() if k != "count"})
    assert str(sel) == "app=web,count,env notin (prod),!legacy,tier in (edge,frontend)"


def test_structured_none_selects_nothing_and_empty_selects_everything() -> None:
    assert selector_from_label_selector_object(None) == LabelSelector(nothing=True)
    assert not selector_from_label_selector_object(None).matches({})
    assert selector_from_label_selector_object({}).matches(LABELS)
    assert selector_from_label_selector_object({"matchLabels": {}, "matchExpressions": []}).empty


@pytest.mark.parametrize(
    ("sel", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            '"Gt" is not a valid label selector operator',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
            "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
        ),
        ({"matchLabels": {"bad key": "x"}}, 'key: Invalid value: "bad key": name part must consist of'),
    ],
)
def test_structured_selector_errors(sel: dict, message: str) -> None:
    assert parse_error(selector_from_label_selector_object, sel).message.startswith(message)


# --- field selectors ----------------------------------------------------------------------

POD = {
    "metadata": {"name": "web-1", "namespace": "shop"},
    "spec": {
        "nodeName": "node-a",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
    },
    "status": {"phase": "Running", "podIP": "10.0.0.5", "nominatedNodeName": "node-b"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metadata.name=web-1", True),
        ("metadata.name==web-1", True),
        ("metadata.name!=web-1", False),
        ("metadata.name=web-2", False),
        ("metadata.namespace=shop", True),
        ("metadata.namespace!=shop", False),
        ("spec.nodeName=node-a", True),
        ("spec.nodeName=", False),
        ("spec.restartPolicy=Always", True),
        ("spec.schedulerName=default-scheduler", True),
        ("spec.serviceAccountName=default", True),
        ("spec.hostNetwork=false", True),  # absent bool reads "false"
        ("status.phase=Running", True),
        ("status.phase!=Running", False),
        ("status.podIP=10.0.0.5", True),
        ("status.nominatedNodeName=node-b", True),
        ("spec.nodeName=node-a,status.phase=Running", True),
        ("spec.nodeName=node-a,status.phase=Pending", False),
        ("spec.host=node-a", True),  # legacy alias of spec.nodeName
        ("", True),
    ],
)
def test_pod_field_selectors(text: str, expected: bool) -> None:
    assert parse_field_selector(text, resource=res("", "pods")).matches(POD) is expected


def test_missing_string_fields_read_as_empty() -> None:
    sel = parse_field_selector("spec.nodeName=", resource=res("", "pods"))
    assert sel.matches({"metadata": {"name": "p"}})
    assert not sel.matches(POD)
    assert parse_field_selector("spec.nodeName!=", resource=res("", "pods")).matches(POD)


def test_pod_ip_falls_back_to_pod_ips() -> None:
    sel = parse_field_selector("status.podIP=10.1.1.1", resource=res("", "pods"))
    assert sel.matches({"status": {"podIPs": [{"ip": "10.1.1.1"}, {"ip": "fd00::1"}]}})


def test_exact_returns_equality_values_only() -> None:
    sel = parse_field_selector("spec.nodeName=node-a,metadata.name!=x", resource=res("", "pods"))
    assert sel.exact("spec.nodeName") == "node-a"
    assert sel.exact("metadata.name") is None
    assert sel.exact("status.phase") is None
    assert parse_field_selector("metadata.name==p", resource=res("", "pods")).exact("metadata.name") == "p"
    assert parse_field_selector("spec.host=n", resource=res("", "pods")).exact("spec.nodeName") == "n"


def test_unknown_field_on_plain_resource_uses_kubes_message() -> None:
    err = parse_error(parse_field_selector, "spec.foo=bar", resource=res("", "configmaps"))
    assert (
        err.message == '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


def test_unknown_field_lists_the_resources_fields() -> None:
    err = parse_error(parse_field_selector, "status.hostIP=1.2.3.4", resource=res("", "pods"))
    assert err.message.startswith('"status.hostIP" is not a known field selector: only "metadata.name", ')
    assert '"spec.nodeName"' in err.message and '"status.phase"' in err.message


def test_fields_of_one_kind_are_not_accepted_for_another() -> None:
    parse_error(parse_field_selector, "status.phase=Running", resource=res("", "configmaps"))
    parse_error(parse_field_selector, "spec.nodeName=n", resource=res("", "services"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("a=b,nonsense", "invalid selector: 'a=b,nonsense'; can't understand 'nonsense'"),
        ("metadata.name=a=b", "invalid field selector: unescaped character in value: ="),
        ("metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"),
        ("metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_field_syntax_errors(text: str, message: str) -> None:
    assert parse_error(parse_field_selector, text, resource=res("", "pods")).message == message


def test_escaped_values() -> None:
    sel = parse_field_selector(r"metadata.name=a\,b\=c\\d", resource=res("", "configmaps"))
    assert sel.exact("metadata.name") == "a,b=c\\d"
    assert sel.matches({"metadata": {"name": "a,b=c\\d"}})
    assert str(sel) == r"metadata.name=a\,b\=c\\d"


def test_metadata_namespace_on_cluster_scoped_reads_empty() -> None:
    nodes = res("", "nodes")
    node = {"metadata": {"name": "n1", "namespace": "stray"}}
    assert parse_field_selector("metadata.namespace=", resource=nodes).matches(node)
    assert not parse_field_selector("metadata.namespace=stray", resource=nodes).matches(node)


CORE_EVENT = {
    "metadata": {"name": "web-1.17a", "namespace": "shop"},
    "involvedObject": {
        "kind": "Pod",
        "namespace": "shop",
        "name": "web-1",
        "uid": "u-1",
        "apiVersion": "v1",
        "resourceVersion": "42",
        "fieldPath": "spec.containers{web}",
    },
    "reason": "Pulled",
    "source": {"component": "kubelet"},
    "reportingComponent": "kubelet",
    "type": "Normal",
}

EVENTS_V1_EVENT = {
    "metadata": {"name": "web-1.17a", "namespace": "shop"},
    "regarding": dict(CORE_EVENT["involvedObject"]),
    "reason": "Pulled",
    "reportingController": "kubelet",
    "type": "Normal",
}

EVENT_SELECTORS = [
    "involvedObject.kind=Pod",
    "involvedObject.namespace=shop",
    "involvedObject.name=web-1",
    "involvedObject.uid=u-1",
    "involvedObject.apiVersion=v1",
    "involvedObject.resourceVersion=42",
    "involvedObject.fieldPath=spec.containers{web}",
    "reason=Pulled",
    "reportingComponent=kubelet",
    "source=kubelet",
    "type=Normal",
    "metadata.name=web-1.17a",
]


@pytest.mark.parametrize("text", EVENT_SELECTORS)
def test_core_event_field_selectors(text: str) -> None:
    events = res("", "events")
    assert parse_field_selector(text, resource=events).matches(CORE_EVENT)
    assert not parse_field_selector(text.replace("=", "!="), resource=events).matches(CORE_EVENT)


@pytest.mark.parametrize("text", EVENT_SELECTORS)
def test_events_k8s_io_accepts_core_names_reading_regarding(text: str) -> None:
    events = res("events.k8s.io", "events")
    assert parse_field_selector(text, resource=events).matches(EVENTS_V1_EVENT)
    assert not parse_field_selector(text + "x", resource=events).matches(EVENTS_V1_EVENT)


def test_events_k8s_io_accepts_its_own_names() -> None:
    events = res("events.k8s.io", "events")
    sel = parse_field_selector("regarding.name=web-1,reportingController=kubelet", resource=events)
    assert sel.matches(EVENTS_V1_EVENT)
    assert sel.exact("involvedObject.name") == "web-1"
    assert sel.exact("regarding.name") == "web-1"
    assert '"regarding.kind"' in parse_error(parse_field_selector, "x=1", resource=events).message


def test_event_source_falls_back_to_reporting_controller() -> None:
    sel = parse_field_selector("source=scheduler", resource=res("", "events"))
    assert sel.matches({"reportingComponent": "scheduler"})
    assert not sel.matches({"source": {"component": "kubelet"}, "reportingComponent": "scheduler"})


def test_core_event_does_not_accept_regarding() -> None:
    parse_error(parse_field_selector, "regarding.name=x", resource=res("", "events"))


@pytest.mark.parametrize(
    ("group", "resource", "text", "obj", "expected"),
    [
        ("", "secrets", "type=kubernetes.io/tls", {"type": "kubernetes.io/tls"}, True),
        ("", "secrets", "type=Opaque", {"type": "kubernetes.io/tls"}, False),
        ("", "nodes", "spec.unschedulable=true", {"spec": {"unschedulable": True}}, True),
        ("", "nodes", "spec.unschedulable=false", {"spec": {}}, True),
        ("", "nodes", "spec.unschedulable=true", {"spec": {}}, False),
        ("", "namespaces", "status.phase=Terminating", {"status": {"phase": "Terminating"}}, True),
        ("", "namespaces", "status.phase=Active", {"status": {"phase": "Terminating"}}, False),
        ("apps", "replicasets", "status.replicas=0", {"status": {}}, True),
        ("apps", "replicasets", "status.replicas=3", {"status": {"replicas": 3}}, True),
        ("apps", "replicasets", "status.replicas!=0", {"status": {"replicas": 3}}, True),
        ("batch", "jobs", "status.successful=2", {"status": {"succeeded": 2}}, True),
        ("batch", "jobs", "status.successful=0", {}, True),
        ("batch", "jobs", "status.successful=1", {}, False),
    ],
)
def test_kind_specific_fields(group: str, resource: str, text: str, obj: dict, expected: bool) -> None:
    assert parse_field_selector(text, resource=res(group, resource)).matches(obj) is expected


def test_supported_fields_per_resource() -> None:
    assert supported_fields(res("", "configmaps")) == ["metadata.name", "metadata.namespace"]
    assert supported_fields(res("", "secrets")) == ["metadata.name", "metadata.namespace", "type"]
    assert "spec.host" not in supported_fields(res("", "pods"))
