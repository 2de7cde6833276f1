"""Kubernetes timestamps as the controllers read and write them.

Objects are plain dicts in Kubernetes JSON form, so times arrive as RFC 3339 strings
(``metav1.Time`` marshals to second precision in UTC, ``2026-01-02T03:04:05Z``).  Helpers
compare ``datetime`` values, so they parse at the edge and format on the way out.  A missing
or empty time is ``None`` (Go's zero ``metav1.Time``).
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | datetime | None) -> datetime | None:
    """Return an aware UTC datetime for an RFC 3339 string; ``None`` stays ``None``.

    Accept datetimes too, so tests and callers that already hold one need not format it.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    """Return the RFC 3339 second-precision UTC form the apiserver stores."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
