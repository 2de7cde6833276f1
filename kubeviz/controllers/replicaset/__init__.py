"""ReplicaSet controller: keep ``spec.replicas`` pods alive for each ReplicaSet.

Mirrors ``pkg/controller/replicaset`` (and the pod helpers it borrows from
``pkg/controller/controller_utils.go`` and ``pkg/api/v1/pod``).  The arithmetic lives in
``helpers``; the loop is built on the shared controller skeleton.
"""
