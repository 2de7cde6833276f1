"""Every controller kube-controller-manager runs, in one explicit map.

Upstream's ``NewControllerDescriptors`` in ``cmd/kube-controller-manager/app``.  Adding a
controller means adding its line here; nothing registers itself by being imported.
"""

from __future__ import annotations

from kubeviz.controllers.base import Controller
from kubeviz.controllers.cronjob.controller import CONTROLLER as CRONJOB
from kubeviz.controllers.daemonset.controller import CONTROLLER as DAEMONSET
from kubeviz.controllers.deployment.controller import CONTROLLER as DEPLOYMENT
from kubeviz.controllers.endpoints.controller import CONTROLLER as ENDPOINT
from kubeviz.controllers.endpointslice.controller import CONTROLLER as ENDPOINTSLICE
from kubeviz.controllers.garbagecollector.controller import CONTROLLER as GARBAGECOLLECTOR
from kubeviz.controllers.job.controller import CONTROLLER as JOB
from kubeviz.controllers.namespace.controller import CONTROLLER as NAMESPACE
from kubeviz.controllers.nodeipam.controller import CONTROLLER as NODEIPAM
from kubeviz.controllers.nodelifecycle.controller import CONTROLLER as NODELIFECYCLE
from kubeviz.controllers.replicaset.controller import CONTROLLER as REPLICASET
from kubeviz.controllers.serviceaccount.controller import CONTROLLER as SERVICEACCOUNT
from kubeviz.controllers.statefulset.controller import CONTROLLER as STATEFULSET
from kubeviz.controllers.tainteviction.controller import CONTROLLER as TAINTEVICTION
from kubeviz.controllers.ttlafterfinished.controller import CONTROLLER as TTLAFTERFINISHED

CONTROLLERS: dict[str, Controller] = {
    c.name: c
    for c in (
        REPLICASET,
        NAMESPACE,
        GARBAGECOLLECTOR,
        DAEMONSET,
        DEPLOYMENT,
        JOB,
        CRONJOB,
        TTLAFTERFINISHED,
        STATEFULSET,
        ENDPOINTSLICE,
        ENDPOINT,
        SERVICEACCOUNT,
        NODEIPAM,
        NODELIFECYCLE,
        TAINTEVICTION,
    )
}
