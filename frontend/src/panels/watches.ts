// Which resources each component watches, as the upstream components do: what a component's
// panel says it watches.  The packets do not use this: they follow the deliveries the
// apiserver reports for each event.

export const WATCHES: Record<string, string[]> = {
  "kube-controller-manager": [
    "pods", "replicasets", "deployments", "daemonsets", "statefulsets", "jobs", "cronjobs",
    "services", "endpoints", "endpointslices", "nodes", "namespaces", "serviceaccounts",
    "configmaps", "secrets", "controllerrevisions", "persistentvolumeclaims",
  ],
  "kube-scheduler": ["pods", "nodes", "namespaces", "persistentvolumeclaims", "persistentvolumes", "services"],
  kubelet: ["pods", "nodes", "services", "configmaps", "secrets"],
  "kube-proxy": ["services", "endpointslices", "nodes"],
  coredns: ["services", "endpointslices", "namespaces"],
  flanneld: ["nodes"],
  "calico-felix": ["nodes", "pods", "services", "endpointslices", "namespaces"],
  "cilium-agent": ["nodes", "pods", "services", "endpointslices", "namespaces"],
}; // prettier-ignore
