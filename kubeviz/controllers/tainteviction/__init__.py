"""Taint eviction controller: delete pods from nodes with NoExecute taints they do not tolerate.

Mirrors ``pkg/controller/tainteviction`` (``taint-eviction-controller``), which upstream runs
beside the node lifecycle controller that sets the ``unreachable`` and ``not-ready`` taints.
"""
