"""Scenario documents: checks that name the field, the canonical form, the built-in library."""

from __future__ import annotations

import pytest
import yaml

from kubeviz.scenarios import document, library

MINIMAL = """
apiVersion: kubeviz.io/v1
kind: Scenario
metadata: {name: tiny}
spec:
  title: Tiny
  steps:
  - {at: 2, note: hello}
"""


def test_defaults_are_filled_in_and_the_dump_reads_back_equal() -> None:
    doc = document.parse(MINIMAL)
    assert doc["spec"]["topology"] == document.TOPOLOGY_DEFAULTS
    assert doc["spec"]["objects"] == [] and doc["spec"]["expect"] == []
    assert document.parse(document.dump(doc)) == doc
    assert document.dump(document.parse(document.dump(doc))) == document.dump(doc)


@pytest.mark.parametrize("path", library.files(), ids=lambda p: p.stem)
def test_every_builtin_is_valid_and_round_trips(path) -> None:  # type: ignore[no-untyped-def]
    doc = document.parse(path.read_text())
    assert doc["spec"]["expect"], "a built-in scenario states the end state it reaches"
    assert document.parse(document.dump(doc)) == doc


def test_the_library_covers_the_six_stories() -> None:
    names = [document.parse(p.read_text())["metadata"]["name"] for p in library.files()]
    assert names[:5] == [
        "deployment-journey",
        "daemonsets-everywhere",
        "services-and-dns",
        "worker-fails",
        "masters-as-workers",
    ]
    assert {"networks-flannel", "networks-calico", "networks-cilium"} <= set(names)
    cnis = {
        document.parse(p.read_text())["spec"]["topology"]["cni"]
        for p in library.files()
        if "networks" in p.stem
    }
    assert cnis == {"flannel", "calico", "cilium"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(kind="Story"), "kind"),
        (lambda d: d["metadata"].update(name="Not OK"), "metadata.name"),
        (lambda d: d["spec"].pop("title"), "spec.title"),
        (lambda d: d["spec"].update(topology={"masters": 2}), "spec.topology.masters"),
        (lambda d: d["spec"].update(topology={"workers": document.MAX_WORKERS + 1}), "spec.topology.workers"),
        (lambda d: d["spec"].update(topology={"cni": "weave"}), "spec.topology.cni"),
        (lambda d: d["spec"]["steps"].append({"at": 1, "note": "back in time"}), "spec.steps[1].at"),
        (lambda d: d["spec"]["steps"].append({"at": 3, "explode": True}), "spec.steps[1].explode"),
        (
            lambda d: d["spec"]["steps"].append(
                {"at": 3, "stop": {"machine": "worker-1"}, "start": {"machine": "worker-1"}}
            ),
            "spec.steps[1]",
        ),
        (
            lambda d: d["spec"]["steps"].append({"at": document.MAX_AT + 1, "note": "late"}),
            "spec.steps[1].at",
        ),
        (
            lambda d: d["spec"].update(objects=[{"kind": "Pod", "metadata": {"name": "p"}}]),
            "spec.objects[0].apiVersion",
        ),
    ],
)
def test_a_bad_field_is_named(change, field) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load(MINIMAL)
    change(doc)
    with pytest.raises(document.DocumentInvalid) as err:
        document.parse(yaml.safe_dump(doc))
    assert field in [c["field"] for c in err.value.causes], err.value.causes


def test_limits_at_n_and_n_plus_one() -> None:
    doc = yaml.safe_load(MINIMAL)
    doc["spec"]["steps"] = [{"at": i, "note": "n"} for i in range(document.MAX_STEPS)]
    document.parse(yaml.safe_dump(doc))
    doc["spec"]["steps"].append({"at": 1000, "note": "one more"})
    with pytest.raises(document.DocumentInvalid):
        document.parse(yaml.safe_dump(doc))
    doc = yaml.safe_load(MINIMAL)
    doc["spec"]["title"] = "t" * 200
    document.parse(yaml.safe_dump(doc))
    doc["spec"]["title"] = "t" * 201
    with pytest.raises(document.DocumentInvalid):
        document.parse(yaml.safe_dump(doc))


def test_unsafe_yaml_is_refused() -> None:
    with pytest.raises(document.DocumentInvalid):
        document.parse("a: &x [1]\nb: *x\n")
    with pytest.raises(document.DocumentInvalid):
        document.parse("!!python/object/apply:os.system ['true']")
    with pytest.raises(document.DocumentInvalid):
        document.parse("x" * (document.MAX_BYTES + 1))
