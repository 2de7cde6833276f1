"""Namespace controller: empty a namespace that is being deleted, then release it.

Mirrors ``pkg/controller/namespace`` (``namespace_controller.go`` and
``deletion/namespaced_resources_deleter.go``).  The arithmetic (conditions, estimates) lives in
``helpers``; the loop is built on the shared controller skeleton.
"""
