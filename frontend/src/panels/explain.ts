// What each component is, in kubeviz's words.  Shown when a component is clicked.

export const EXPLAIN: Record<string, string> = {
  etcd:
    "The cluster's memory. Every API object is a key here. Each write gets the next revision number, and anyone watching is told about writes in revision order. With several masters, the members copy each write to one another.",
  "kube-apiserver":
    "The only way in to etcd. It checks each request (who is asking, is the object valid), stores the result, and sends the change to every component watching that kind of object. All the arrows of the picture start or end here.",
  "kube-controller-manager":
    "Runs the control loops. Each loop compares what was asked for (a Deployment wants 3 replicas) with what exists, and writes the difference: a new ReplicaSet, new Pods, removed Pods. Only the instance holding the lease acts.",
  "kube-scheduler":
    "Chooses a node for every pod that has none. It removes the nodes that cannot run the pod (too little CPU, a taint, a selector), scores the rest, and writes a Binding for the best one.",
  kubelet:
    "The node's agent. It watches only the pods bound to its own node, asks the container runtime to start them, probes them, and writes their status back. It also keeps its Node's lease fresh, which is how the control plane knows the node is alive.",
  "kube-proxy":
    "Turns Services into packet rules on its node (iptables or IPVS), so traffic to a Service's ClusterIP reaches one of its ready pods.",
  flanneld:
    "flannel's daemon: gives each node a pod subnet and carries traffic between nodes in a VXLAN overlay (the flannel.1 device).",
  "calico-felix":
    "calico's agent: programs a route to every other node's pod block, learned over BGP, through the tunl0 device.",
  "cilium-agent":
    "cilium's agent: forwards pod traffic with eBPF programs, with routes to other nodes through cilium_host.",
  coredns:
    "The cluster's DNS server. It answers names such as web.default.svc.cluster.local with the Service's ClusterIP, from its own watches of Services and EndpointSlices.",
  containerd:
    "The container runtime. When the kubelet asks (over CRI), it creates the pod's sandbox, pulls images and starts and stops containers.",
  cni:
    "The CNI plugin. The kubelet calls it when a pod's sandbox is made; it gives the pod an address from the node's pod range and wires its network interface.",
};
