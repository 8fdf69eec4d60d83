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

export type Reply<T> = { ok: true; value: T } | { ok: false; error: WireError };
