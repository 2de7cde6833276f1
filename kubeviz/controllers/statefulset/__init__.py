"""StatefulSet controller: pods with stable names and ordinals, created and replaced in order.

Mirrors ``pkg/controller/statefulset`` (and the revision history of
``pkg/controller/history``).  The arithmetic lives in ``helpers``; the loop is built on the
shared controller skeleton.
"""
