/**
 * Resource metrics on the wire: what each kubelet publishes on `kubeact.node.<node>.metrics`,
 * and what the metrics server answers on `kubeact.metrics.pods|nodes|traffic` (the pod and node
 * objects in the shapes of metrics.k8s.io/v1beta1, as `kubectl get --raw` shows them).
 */

/** Usage rates of one container over the last sampling window. */
export interface ContainerUsage {
  name: string;
  /** Average CPU over the window, in nanocores (1e9 = one core). */
  cpuNanoCores: number;
  /** Working set, bytes. */
  memoryBytes: number;
}
export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  labels?: Record<string, string>;
  containers: ContainerUsage[];
}
/** One kubelet's sample, published every `--metrics-ms`. */
export interface NodeMetricsReport {
  node: string;
  /** RFC 3339, when the sample was taken. */
  timestamp: string;
  /** The window the CPU rates are averaged over, ms. */
  windowMs: number;
  /** The node's usage: its pods plus the kubelet process itself. */
  usage: { cpuNanoCores: number; memoryBytes: number };
  /** Running pods that have been sampled twice (a rate needs two samples). */
  pods: PodUsage[];
}

export interface PodMetricsRequest {
  /** Omitted: every namespace. */
  namespace?: string;
  name?: string;
  /** Label selector syntax, as for list. */
  labelSelector?: string;
}
export interface NodeMetricsRequest {
  name?: string;
}

/** metrics.k8s.io/v1beta1 PodMetrics. */
export interface PodMetrics {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'PodMetrics';
  metadata: { name: string; namespace: string; labels?: Record<string, string>; creationTimestamp: string };
  timestamp: string;
  /** Go duration, e.g. `10s`. */
  window: string;
  containers: { name: string; usage: { cpu: string; memory: string } }[];
}
/** metrics.k8s.io/v1beta1 NodeMetrics. */
export interface NodeMetrics {
  apiVersion: 'metrics.k8s.io/v1beta1';
  kind: 'NodeMetrics';
  metadata: { name: string; creationTimestamp: string };
  timestamp: string;
  window: string;
  usage: { cpu: string; memory: string };
}
export interface MetricsList<T> {
  items: T[];
}

export interface TrafficRequest {
  namespace?: string;
}
/** Traffic rates through kube-proxy, summed over every node's proxy. */
export interface TrafficRate {
  namespace: string;
  name: string;
  requestsPerSecond: number;
  connectionsPerSecond: number;
}
export interface TrafficReply {
  /** Per pod behind a Service endpoint. */
  pods: TrafficRate[];
  /** Per Service (all its ports). */
  services: TrafficRate[];
}

/** `1234567n`: CPU as metrics-server prints it. */
export function formatNanoCores(n: number): string {
  return `${Math.max(0, Math.round(n))}n`;
}
/** `1234Ki`: memory as metrics-server prints it. */
export function formatKi(bytes: number): string {
  return `${Math.max(0, Math.round(bytes / 1024))}Ki`;
}
/** Milliseconds as a Go duration (`10s`, `1.5s`). */
export function goDuration(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
