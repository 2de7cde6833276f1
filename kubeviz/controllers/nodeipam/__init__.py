"""Node IPAM controller: give each node a pod CIDR out of the cluster CIDR.

Mirrors ``pkg/controller/nodeipam`` (the range allocator and its ``cidrset``).
"""
