"""DaemonSet controller: one pod on every node that should run it.

Mirrors ``pkg/controller/daemon`` (and ``pkg/controller/daemon/util``).  The arithmetic lives
in ``helpers``; the loop is built on the shared controller skeleton.
"""
