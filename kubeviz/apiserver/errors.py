"""Kubernetes API errors: every failure leaves the apiserver as a ``Status`` object.

Mirrors ``k8s.io/apimachinery/pkg/api/errors``: one exception type carrying the HTTP code,
the machine-readable ``reason`` and ``details`` (with ``causes`` naming fields).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Cause:
    """One reason a request was refused: a field path and what was wrong with it."""

    reason: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass
class APIError(Exception):
    """An API failure with its HTTP code and Kubernetes reason."""

    code: int
    reason: str
    message: str
    name: str = ""
    group: str = ""
    kind: str = ""
    causes: list[Cause] = field(default_factory=list)
    retry_after: int | None = None

    def __str__(self) -> str:
        return self.message

    def status(self) -> dict[str, Any]:
        """Return the ``meta.k8s.io/v1`` Status object for this error."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
        if details:
            body["details"] = details
        return body


def _qualified(kind: str, group: str) -> str:
    return f"{kind}.{group}" if group else kind


def not_found(kind: str, name: str, group: str = "") -> APIError:
    return APIError(404, "NotFound", f'{_qualified(kind, group)} "{name}" not found', name, group, kind)


def already_exists(kind: str, name: str, group: str = "") -> APIError:
    return APIError(
        409, "AlreadyExists", f'{_qualified(kind, group)} "{name}" already exists', name, group, kind
    )


def conflict(kind: str, name: str, group: str = "", why: str = "") -> APIError:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    msg = f'Operation cannot be fulfilled on {_qualified(kind, group)} "{name}": {why}'
    return APIError(409, "Conflict", msg, name, group, kind)


def invalid(kind: str, name: str, causes: list[Cause], group: str = "") -> APIError:
    summary = ", ".join(f"{c.field}: {c.message}" if c.field else c.message for c in causes)
    msg = f'{_qualified(kind, group)} "{name}" is invalid: {summary}'
    return APIError(422, "Invalid", msg, name, group, kind, causes)


def bad_request(message: str, causes: list[Cause] | None = None) -> APIError:
    return APIError(400, "BadRequest", message, causes=causes or [])


def expired(message: str) -> APIError:
    return APIError(410, "Expired", message)


def method_not_allowed(message: str) -> APIError:
    return APIError(405, "MethodNotAllowed", message)


def too_large(message: str = "Request entity too large: limit is 3145728") -> APIError:
    return APIError(413, "RequestEntityTooLarge", message)


def unsupported_media_type(content_type: str) -> APIError:
    return APIError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type!r})",
    )


def not_acceptable(message: str) -> APIError:
    return APIError(406, "NotAcceptable", message)


def internal(message: str) -> APIError:
    return APIError(500, "InternalError", message)
