"""Deployment controller: roll a pod template out through ReplicaSets.

Mirrors ``pkg/controller/deployment`` and its ``util/deployment_util.go``.  The arithmetic
(hashes, fenceposts, scale-up and scale-down budgets, conditions, status) lives in ``helpers``.
"""
