"""The Network Daemon: flanneld, calico-felix or cilium-agent programming each node's routes.

Each node's daemon watches Nodes through the apiserver and writes that node's routes to every
other node's podCIDR, the way its CNI does (a VXLAN overlay, BGP-learned routes over IPIP, or
eBPF routing via ``cilium_host``).  The routes are node state (``models.NodeRoutes``).
"""
