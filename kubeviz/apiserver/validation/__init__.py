"""Validation of request bodies, in two layers as kube-apiserver has them.

* :func:`validate_object` (``schema``): what decoding the JSON into the Go struct of the
  kind would refuse (wrong types, unparseable values) or drop (unknown fields), plus a
  pruned copy of the object.
* :func:`validate_metadata` (``metadata``): the ``ObjectMeta`` rules every kind shares
  (names, labels, annotations, finalizers, owner references), from
  ``k8s.io/apimachinery/pkg/api/validation``.

Both return problems as :class:`~kubeviz.apiserver.errors.Cause` lists (or paths, for
unknown fields) and never raise for bad input; the caller decides between a 400, a 422 or
a warning according to ``fieldValidation``.
"""

from kubeviz.apiserver.validation.metadata import (
    dns1035_label_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    label_value_errors,
    qualified_name_errors,
    validate_metadata,
)
from kubeviz.apiserver.validation.schema import SchemaResult, validate_object

__all__ = [
    "SchemaResult",
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
    "validate_object",
]
