// Which components watch which resources, as the upstream components do.  A watch event
// travels from kube-apiserver to each of them.  kubelets watch pods with
// fieldSelector=spec.nodeName, so a pod's events go only to its own node's kubelet.

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

/** Components whose watch of this resource is narrowed to their own node. */
export const NODE_SCOPED: Record<string, string[]> = {
  kubelet: ["pods", "nodes"],
  "kube-proxy": ["nodes"],
  flanneld: [],
};

export function watches(component: string, resource: string): boolean {
  return (WATCHES[component] ?? []).includes(resource);
}

/** Whether `component` on `machine` receives an event about an object on node `objectNode`. */
export function receives(component: string, resource: string, machine: string, objectNode: string | null): boolean {
  if (!watches(component, resource)) return false;
  if ((NODE_SCOPED[component] ?? []).includes(resource)) return objectNode === machine;
  return true;
}
