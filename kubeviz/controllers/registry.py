"""Every controller kube-controller-manager runs, in one explicit map.

Upstream's ``NewControllerDescriptors`` in ``cmd/kube-controller-manager/app``.  Adding a
controller means adding its line here; nothing registers itself by being imported.
"""

from __future__ import annotations

from kubeviz.controllers.base import Controller
from kubeviz.controllers.replicaset.controller import CONTROLLER as REPLICASET

CONTROLLERS: dict[str, Controller] = {c.name: c for c in (REPLICASET,)}
