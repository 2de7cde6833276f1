"""The in-tree scheduling plugins, one package each, registered in ``registry.py``.

Mirrors ``pkg/scheduler/framework/plugins``.  Importing a plugin registers nothing; only the
explicit map in ``registry.py`` decides which plugins exist.
"""
