"""The kubelet's container runtime: what a simulated container does, as data."""
