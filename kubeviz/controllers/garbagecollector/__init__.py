"""Garbage collector: delete dependents whose owners are gone, with the three propagation policies.

Mirrors ``pkg/controller/garbagecollector``.  The dependency graph upstream builds in memory
is the shared cache's owner index here; the decisions live in ``helpers`` and the loop is
built on the shared controller skeleton.
"""
