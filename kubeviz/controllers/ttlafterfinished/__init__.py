"""TTL-after-finished controller: delete finished Jobs once their ``ttlSecondsAfterFinished`` is up.

Mirrors ``pkg/controller/ttlafterfinished``.
"""
