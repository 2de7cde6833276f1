"""Endpoints controller: keep the legacy v1 Endpoints of each selector Service.

Mirrors ``pkg/controller/endpoint``.  The Endpoints object is named like its Service and
lists ready pods in ``addresses`` and the others in ``notReadyAddresses``.  The ``kubernetes``
Service has no selector: its Endpoints belong to kube-apiserver, and this controller leaves
them alone.
"""
