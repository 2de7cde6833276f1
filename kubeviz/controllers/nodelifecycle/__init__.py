"""Node lifecycle controller: notice silent nodes, mark them Unknown and taint them.

Mirrors ``pkg/controller/nodelifecycle``.  Evicting the pods of tainted nodes is the
``tainteviction`` package's job, as upstream runs ``pkg/controller/tainteviction`` as its own
controller; its toleration arithmetic builds on ``helpers.tolerates``.
"""
