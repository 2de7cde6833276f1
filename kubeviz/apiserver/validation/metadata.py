"""The ``ObjectMeta`` rules that every kind shares, as kube-apiserver applies them.

Contract: ``validate_metadata(obj, resource=..., is_create=...)`` returns the field errors
for ``obj["metadata"]`` as :class:`Cause` objects, in the order Kubernetes reports them, and
an empty list when the metadata is acceptable.  It mirrors ``ValidateObjectMeta`` in
``k8s.io/apimachinery/pkg/api/validation/objectmeta.go`` together with the string checks of
``k8s.io/apimachinery/pkg/util/validation`` (DNS names, qualified names, label values) and
the per-kind choice of name rule made in ``pkg/apis/*/validation`` (a DNS-1123 subdomain for
most kinds, a DNS-1123 label for namespaces, a DNS-1035 label for services).

What it covers:

* on create, ``name`` is required unless ``generateName`` is set, and both must satisfy the
  kind's name rule (``generateName`` with a trailing dash allowed, since a random suffix is
  appended); on update the name is the stored one and only the other rules apply;
* ``namespace`` is required and must be a DNS-1123 label for namespaced kinds, and is
  forbidden for cluster-scoped ones (the REST layer normally fills or clears it first);
* ``generation`` must not be negative;
* label keys are qualified names and label values valid label values;
* annotation keys are qualified names (case-insensitively) and all annotations together
  stay within 256 KiB;
* finalizers are qualified names, and ``orphan`` excludes ``foregroundDeletion``;
* owner references name an apiVersion, kind, name and uid, and at most one is the
  controller.

Checks that need the stored object (immutable fields, resourceVersion on update) belong to
the update path, not here.  Messages use Kubernetes' wording, and each cause's ``message`` is
the body of a ``field.Error`` (``Invalid value: "Foo": ...``), as in a ``Status``'s causes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from kubeviz.apiserver.errors import Cause
from kubeviz.apiserver.registry import Resource

__all__ = [
    "TOTAL_ANNOTATION_SIZE_LIMIT",
    "dns1035_label_errors",
    "dns1123_label_errors",
    "dns1123_subdomain_errors",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_qualified_name",
    "label_value_errors",
    "qualified_name_errors",
    "validate_metadata",
]

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
DNS1035_LABEL_MAX = 63
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
# A CronJob's name gets an 11-character suffix in the Jobs it creates, which must fit a label.
CRONJOB_NAME_MAX = DNS1035_LABEL_MAX - 11

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"

_DNS1123_LABEL = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL = re.compile(_DNS1035_LABEL_FMT)
_QUALIFIED_NAME = re.compile(_QUALIFIED_NAME_FMT)
_LABEL_VALUE = re.compile(_LABEL_VALUE_FMT)

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
_QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)

_FINALIZER_ORPHAN = "orphan"
_FINALIZER_FOREGROUND = "foregroundDeletion"
# Kinds that may never own another object (an owner reference to one is refused).
_BANNED_OWNERS = {("", "v1", "Event")}


# --- string rules (k8s.io/apimachinery/pkg/util/validation) -----------------------------


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Word a pattern failure the way Kubernetes does, examples and regex included."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    # Kubernetes joins the examples as "'a',  or 'b', " (two spaces): kept for fidelity.
    listed = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {listed}regex used for validation is '{fmt}')"


def dns1123_label_errors(value: str) -> list[str]:
    """Return why ``value`` is not a DNS-1123 label (RFC 1123 host name part), or []."""
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(_max_len(DNS1123_LABEL_MAX))
    if not _DNS1123_LABEL.fullmatch(value):
        errs.append(_regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    """Return why ``value`` is not a DNS-1123 subdomain (dot-separated labels), or []."""
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(_max_len(DNS1123_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def dns1035_label_errors(value: str) -> list[str]:
    """Return why ``value`` is not a DNS-1035 label (starts with a letter), or []."""
    errs = []
    if len(value) > DNS1035_LABEL_MAX:
        errs.append(_max_len(DNS1035_LABEL_MAX))
    if not _DNS1035_LABEL.fullmatch(value):
        errs.append(_regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def qualified_name_errors(value: str) -> list[str]:
    """Return why ``value`` is not a qualified name (``[prefix/]name``), or [].

    This is the rule for label keys, annotation keys and finalizers.
    """
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain_errors(prefix))
    else:
        return [
            "a qualified name "
            + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errs.append("name part " + _max_len(QUALIFIED_NAME_MAX))
    if not _QUALIFIED_NAME.fullmatch(name):
        errs.append(
            "name part "
            + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value_errors(value: str) -> list[str]:
    """Return why ``value`` is not a valid label value (may be empty), or []."""
    errs = []
    if len(value) > LABEL_VALUE_MAX:
        errs.append(_max_len(LABEL_VALUE_MAX))
    if not _LABEL_VALUE.fullmatch(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_dns1123_label(value: str) -> bool:
    """Tell whether ``value`` is a DNS-1123 label (≤63 chars, ``[a-z0-9-]``, alnum ends)."""
    return isinstance(value, str) and not dns1123_label_errors(value)


def is_dns1123_subdomain(value: str) -> bool:
    """Tell whether ``value`` is a DNS-1123 subdomain (≤253 chars, dot-separated labels)."""
    return isinstance(value, str) and not dns1123_subdomain_errors(value)


def is_dns1035_label(value: str) -> bool:
    """Tell whether ``value`` is a DNS-1035 label (a DNS-1123 label starting with a letter)."""
    return isinstance(value, str) and not dns1035_label_errors(value)


def is_qualified_name(value: str) -> bool:
    """Tell whether ``value`` is a qualified name, as label keys must be."""
    return isinstance(value, str) and not qualified_name_errors(value)


# --- name rules per kind ----------------------------------------------------------------

NameRule = Callable[[str], list[str]]


def _name_rule(resource: Resource) -> NameRule:
    """Return the rule ``metadata.name`` of this kind must satisfy."""
    if resource.group == "" and resource.resource == "namespaces":
        return dns1123_label_errors
    if resource.group == "" and resource.resource == "services":
        # Service names become DNS labels of the cluster domain and env var prefixes.
        return dns1035_label_errors
    return dns1123_subdomain_errors


def _mask_trailing_dash(name: str) -> str:
    """Make a generateName prefix checkable: a trailing dash is fine before a suffix.

    Kubernetes replaces the last *two* characters with "a" (a quirk of its slicing);
    reproduced so the same prefixes pass and fail.
    """
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


# --- field errors -----------------------------------------------------------------------


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause(reason="FieldValueInvalid", message=f"Invalid value: {_render(value)}: {detail}", field=path)


def _required(path: str, detail: str = "") -> Cause:
    return Cause(
        reason="FieldValueRequired",
        message=f"Required value: {detail}" if detail else "Required value",
        field=path,
    )


def _forbidden(path: str, detail: str) -> Cause:
    return Cause(reason="FieldValueForbidden", message=f"Forbidden: {detail}", field=path)


def _too_long(path: str, limit: int) -> Cause:
    return Cause(
        reason="FieldValueTooLong", message=f"Too long: may not be more than {limit} bytes", field=path
    )


# --- ObjectMeta ---------------------------------------------------------------------------


def validate_metadata(obj: dict[str, Any], *, resource: Resource, is_create: bool) -> list[Cause]:
    """Validate ``obj["metadata"]`` for a create (``is_create``) or an update of ``resource``."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        meta = {}
    causes: list[Cause] = []
    if is_create:
        causes += _validate_name(meta, resource)
    causes += _validate_namespace(meta, resource)
    generation = meta.get("generation")
    if isinstance(generation, int) and not isinstance(generation, bool) and generation < 0:
        causes.append(_invalid("metadata.generation", generation, "must be greater than or equal to 0"))
    causes += _validate_labels(meta.get("labels"), "metadata.labels")
    causes += _validate_annotations(meta.get("annotations"), "metadata.annotations")
    causes += _validate_owner_references(meta.get("ownerReferences"), "metadata.ownerReferences")
    causes += _validate_finalizers(meta.get("finalizers"), "metadata.finalizers")
    return causes


def _validate_name(meta: dict[str, Any], resource: Resource) -> list[Cause]:
    rule = _name_rule(resource)
    causes = []
    generate_name = meta.get("generateName")
    if isinstance(generate_name, str) and generate_name:
        causes += [
            _invalid("metadata.generateName", generate_name, m)
            for m in rule(_mask_trailing_dash(generate_name))
        ]
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        if not generate_name:
            causes.append(_required("metadata.name", "name or generateName is required"))
        return causes
    causes += [_invalid("metadata.name", name, m) for m in rule(name)]
    if resource.group == "batch" and resource.resource == "cronjobs" and len(name) > CRONJOB_NAME_MAX:
        causes.append(_invalid("metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters"))
    return causes


def _validate_namespace(meta: dict[str, Any], resource: Resource) -> list[Cause]:
    namespace = meta.get("namespace")
    if not resource.namespaced:
        if namespace:
            return [_forbidden("metadata.namespace", "not allowed on this type")]
        return []
    if not isinstance(namespace, str) or not namespace:
        return [_required("metadata.namespace")]
    return [_invalid("metadata.namespace", namespace, m) for m in dns1123_label_errors(namespace)]


def _validate_labels(labels: Any, path: str) -> list[Cause]:
    if not isinstance(labels, dict):
        return []
    causes = []
    for key, value in labels.items():
        causes += [_invalid(path, key, m) for m in qualified_name_errors(str(key))]
        if isinstance(value, str):
            causes += [_invalid(path, value, m) for m in label_value_errors(value)]
    return causes


def _validate_annotations(annotations: Any, path: str) -> list[Cause]:
    if not isinstance(annotations, dict):
        return []
    causes = []
    total = 0
    for key, value in annotations.items():
        # The key rule is the qualified-name rule, except that case does not matter.
        causes += [_invalid(path, key, m) for m in qualified_name_errors(str(key).lower())]
        # The limit is in bytes, as Go's len() of a string counts them.
        total += len(str(key).encode()) + (len(value.encode()) if isinstance(value, str) else 0)
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(_too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def _validate_finalizers(finalizers: Any, path: str) -> list[Cause]:
    if not isinstance(finalizers, list):
        return []
    causes = []
    for finalizer in finalizers:
        if isinstance(finalizer, str):
            causes += [_invalid(path, finalizer, m) for m in qualified_name_errors(finalizer)]
    if _FINALIZER_ORPHAN in finalizers and _FINALIZER_FOREGROUND in finalizers:
        detail = f"finalizer {_FINALIZER_ORPHAN} and {_FINALIZER_FOREGROUND} cannot be both set"
        causes.append(_invalid(path, finalizers, detail))
    return causes


def _validate_owner_references(refs: Any, path: str) -> list[Cause]:
    if not isinstance(refs, list):
        return []
    causes = []
    controller = ""
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        api_version = ref.get("apiVersion") or ""
        group, _, version = api_version.rpartition("/") if "/" in api_version else ("", "", api_version)
        kind = ref.get("kind") or ""
        if not version:
            causes.append(_invalid(f"{path}.apiVersion", api_version, "version must not be empty"))
        if not kind:
            causes.append(_invalid(f"{path}.kind", kind, "kind must not be empty"))
        if not ref.get("name"):
            causes.append(_invalid(f"{path}.name", ref.get("name") or "", "name must not be empty"))
        if not ref.get("uid"):
            causes.append(_invalid(f"{path}.uid", ref.get("uid") or "", "uid must not be empty"))
        if (group, version, kind) in _BANNED_OWNERS:
            causes.append(
                _invalid(path, ref, f"{group}/{version}, Kind={kind} is disallowed from being an owner")
            )
        if ref.get("controller") is True:
            current = f"{kind}/{ref.get('name') or ''}"
            if controller:
                detail = (
                    'Only one reference can have Controller set to true. Found "true" in references for '
                    f"{controller} and {current}"
                )
                causes.append(_invalid(path, refs, detail))
            else:
                controller = current
    return causes
