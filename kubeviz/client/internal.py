"""The credential kubeviz's own processes show the explorer API.

Clusters launched from scenario links are unlisted: ``GET /api/clusters`` leaves them out, so
their names (which are unguessable) stay with the people who launched them.  The control-plane
and machines processes still have to find them, so they send this bearer token, derived from
the deployment's ``SECRET_KEY``; every process of one deployment shares that key.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def token() -> str:
    """Return the bearer token of this deployment's own processes."""
    return hmac.new(settings.SECRET_KEY.encode(), b"kubeviz-internal-processes", hashlib.sha256).hexdigest()


def headers() -> dict[str, str]:
    """Return the header that shows the explorer API a request comes from kubeviz itself."""
    return {"Authorization": f"Bearer {token()}"}


def is_internal(authorization: str) -> bool:
    """Tell whether an ``Authorization`` header carries this deployment's own token."""
    scheme, _, value = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token())
