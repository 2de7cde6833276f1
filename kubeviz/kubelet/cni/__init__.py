"""The kubelet's network plugin: host-local IPAM and the CNI flavours' devices and routes, as data."""
