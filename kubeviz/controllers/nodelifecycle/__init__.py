"""Node lifecycle controller: notice silent nodes, taint them, and evict their pods.

Mirrors ``pkg/controller/nodelifecycle`` and the taint-eviction controller
(``pkg/controller/tainteviction``).
"""
