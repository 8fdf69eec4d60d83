/** Typed request and reply bodies of every subject in subjects.ts. */
import type { WireError } from './errors.js';
import type { KubeObject } from './objects.js';

export interface CreateRequest {
  object: KubeObject;
}
/** Create when missing, otherwise replace labels, annotations and spec (status is kept). */
export interface ApplyRequest {
  object: KubeObject;
}
export interface ApplyResult<T extends KubeObject = KubeObject> {
  object: T;
  /** What kubectl prints after the name: `created`, `configured` or `unchanged`. */
  outcome: 'created' | 'configured' | 'unchanged';
}
export interface GetRequest {
  namespace?: string;
  name: string;
}
export interface ListRequest {
  /** Omitted: all namespaces. */
  namespace?: string;
  /** Kubernetes label selector syntax: `app=web,tier!=db,env in (a,b),!legacy`. */
  labelSelector?: string;
  /** `field=value` pairs joined by commas; supports `metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.phase`, `involvedObject.*`. */
  fieldSelector?: string;
  /** At most this many items (a page); the reply's `metadata.continue` fetches the next one. */
  limit?: number;
  /** `metadata.continue` of the previous page. */
  continue?: string;
}
/** Compare-and-set: `object.metadata.resourceVersion` must be the stored one. */
export interface UpdateRequest {
  object: KubeObject;
}
export interface DeleteRequest {
  namespace?: string;
  name: string;
  /** Pods only: seconds the kubelet gives the containers to stop; 0 removes the object at once. */
  gracePeriodSeconds?: number;
  preconditions?: { resourceVersion?: string; uid?: string };
  /** `Orphan` keeps the dependents (their ownerReferences to this object are removed); default `Background`. */
  propagationPolicy?: 'Orphan' | 'Background';
}
/** Scheduler's binding of a pod to a node (the pods/binding subresource). */
export interface BindRequest {
  namespace: string;
  name: string;
  nodeName: string;
  /** The pod's uid as the scheduler saw it: a replaced pod of the same name is not bound. */
  uid?: string;
}

/** Most bindings one `bindMany` request may carry. */
export const MAX_BINDINGS_PER_REQUEST = 1000;

/** Many bindings in one request (the scheduler's batch); each is done as a `bind` would do it. */
export interface BindManyRequest {
  bindings: BindRequest[];
}

/** One result per binding, in the request's order: the bound pod's resourceVersion, or why not. */
export interface BindManyReply {
  results: ({ ok: true; resourceVersion: string } | { ok: false; error: WireError })[];
}

/** Most objects one `createMany` request may carry. */
export const MAX_CREATES_PER_REQUEST = 256;

/**
 * Many new objects of one kind in one request (what Event recorders send: a pod's start makes
 * four Events, a busy process thousands a second); each is admitted and stored as `create`
 * would do it, and each has its own result.
 */
export interface CreateManyRequest {
  objects: KubeObject[];
}

/** One result per object, in the request's order: the stored object's name and resourceVersion, or why not. */
export interface CreateManyReply {
  results: ({ ok: true; name: string; resourceVersion: string } | { ok: false; error: WireError })[];
}

/** On subjects.apiServerStarted(): the API server serves (again); watchers relist. */
export interface ApiServerStarted {
  startedAt: string;
}

export interface LogsRequest {
  namespace: string;
  pod: string;
  container?: string;
  previous?: boolean;
  tailLines?: number;
  /** With follow, chunks are sent as requests to this inbox until it stops answering. */
  follow?: boolean;
  inbox?: string;
}
export interface LogsReply {
  container: string;
  text: string;
}
export interface LogChunk {
  text?: string;
  /** Last chunk of a followed stream: the container ended or the pod is gone. */
  end?: boolean;
}

/**
 * The local-path provisioner's request to a kubelet: create (or remove) the directory of the
 * provisioned volume `name` under the node's data dir. Both are idempotent.
 */
export interface LocalVolumeRequest {
  op: 'create' | 'delete';
  /** The PersistentVolume's name: one path segment (DNS subdomain). */
  name: string;
}
export interface LocalVolumeReply {
  /** The directory's absolute path on the node. */
  path: string;
  /** delete: whether a directory was there to remove. */
  removed?: boolean;
}

/**
 * Counters of one node's kube-proxy, published on `kubeact.node.<node>.proxy.metrics`. Counters
 * are totals since the proxy started (they reset when it restarts); `bytesIn` flows from
 * clients to endpoints, `bytesOut` back to clients. For UDP a "connection" is a client session.
 * `requests` counts HTTP/1 requests seen on TCP connections (an approximation).
 */
export interface ProxyTrafficCounters {
  connectionsTotal: number;
  connectionsActive: number;
  bytesIn: number;
  bytesOut: number;
  requests: number;
}
export interface ProxyEndpointMetrics extends ProxyTrafficCounters {
  ip: string;
  port: number;
  /** `namespace/name` of the pod behind the endpoint, when the Endpoints name it. */
  pod?: string;
  nodeName?: string;
  /** Connection attempts the endpoint refused (or that failed before connecting). */
  failures: number;
  /** False once the endpoint left the Endpoints (its open connections are still counted). */
  current: boolean;
}
export interface ProxyServiceMetrics extends ProxyTrafficCounters {
  namespace: string;
  name: string;
  /** The service port's name ('' when unnamed). */
  port: string;
  protocol: 'TCP' | 'UDP';
  /** Connections (or datagrams) turned away because no endpoint was ready. */
  rejected: number;
  /** Connections reset (or datagrams dropped) because a NetworkPolicy does not allow them. */
  denied: number;
  endpoints: ProxyEndpointMetrics[];
}
export interface ProxyListenerState {
  /** `ip:port`. */
  address: string;
  protocol: 'TCP' | 'UDP';
  role: 'clusterIP' | 'externalIP' | 'nodePort' | 'loadBalancer';
  /** `namespace/name:port`. */
  service: string;
  /** `serving`: this node holds the address; `standby`: another process does (retrying). */
  state: 'serving' | 'standby' | 'failed';
  error?: string;
}
export interface ProxyMetrics {
  node: string;
  /** RFC 3339 with microseconds. */
  time: string;
  services: ProxyServiceMetrics[];
  listeners: ProxyListenerState[];
}

export type Reply<T> = { ok: true; value: T } | { ok: false; error: WireError };
