"""ServiceAccount controller: a ``default`` ServiceAccount in every active namespace.

Mirrors ``pkg/controller/serviceaccount/serviceaccounts_controller.go``.
"""
