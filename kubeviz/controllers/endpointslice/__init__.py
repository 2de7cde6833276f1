"""EndpointSlice controller: list each selector Service's pods in EndpointSlices.

Mirrors ``pkg/controller/endpointslice`` and the reconciler it drives in
``staging/src/k8s.io/endpointslice``.  The arithmetic (which pods, which ports, how endpoints
are packed into slices) lives in ``helpers``; the loop is built on the shared controller
skeleton.  The legacy Endpoints controller borrows the pod and port helpers, as upstream's
borrows ``k8s.io/endpointslice/util``.
"""
