"""Job controller: run pods until enough succeed, or give up.

Mirrors ``pkg/controller/job`` (and the finished-job arithmetic of ``pkg/controller/ttlafterfinished``).
"""
