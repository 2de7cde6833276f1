"""The scheduling framework: node snapshots, statuses, plugin contracts and the one-pod runner.

Mirrors ``pkg/scheduler/framework`` (types, interface, runtime) as pure code over plain
Kubernetes JSON dicts; the queue and the binding cycle live elsewhere in ``kubeviz.scheduler``.
"""
