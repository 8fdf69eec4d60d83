/**
 * Object shapes: the Kubernetes types themselves (kubernetes-types), so real manifests
 * apply unchanged, plus the few helpers every process needs to address an object.
 */
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Pod, Node, Namespace, Event, PodCondition, ContainerStatus, NodeCondition } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { KINDS, isKind, type Kind } from './kinds.js';

export type { ObjectMeta, OwnerReference, Pod, Node, Namespace, Event, Lease, PodCondition, ContainerStatus, NodeCondition };
export type { Container, PodSpec, PodStatus, NodeSpec, NodeStatus, ContainerState, EnvVar, ObjectReference } from 'kubernetes-types/core/v1.js';

/** kubernetes-types marks server-set fields readonly; the server (and tests) set them. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type Meta = Mutable<ObjectMeta>;

/** Any stored object: the common envelope every kind shares. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
  spec?: any;
  status?: any;
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  /** `continue` and `remainingItemCount` only on a page that has a next one. */
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface ObjectRef {
  kind: Kind;
  namespace?: string;
  name: string;
}

export const DEFAULT_NAMESPACE = 'default';
/** Namespace holding the nodes' heartbeat Leases, as in Kubernetes. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const SYSTEM_NAMESPACE = 'kube-system';

export function kindOf(obj: KubeObject): Kind | undefined {
  return isKind(obj.kind) ? obj.kind : undefined;
}

/** `namespace/name` for namespaced kinds, `name` otherwise: how logs and messages name an object. */
export function displayName(kind: Kind, namespace: string | undefined, name: string): string {
  return KINDS[kind].namespaced ? `${namespace ?? DEFAULT_NAMESPACE}/${name}` : name;
}

/** RFC 3339 with second precision, as Kubernetes writes timestamps. */
export function nowTimestamp(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  // Whole seconds: a busy API server stamps thousands of objects with the same one (1% of its CPU was formatting it).
  if (second !== lastSecond.at) lastSecond = { at: second, text: new Date(second * 1000).toISOString().replace('.000Z', 'Z') };
  return lastSecond.text;
}
let lastSecond = { at: NaN, text: '' };

/** RFC 3339 with microseconds, as Kubernetes writes MicroTime (Lease renewTime, Event eventTime). */
export function nowMicroTime(now: number = Date.now()): string {
  return new Date(now).toISOString().replace('Z', '000Z');
}

export function deepClone<T>(value: T): T {
  return structuredClone(value);
}

export function podCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

export function nodeCondition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

export function isNodeReady(node: Node): boolean {
  return nodeCondition(node, 'Ready')?.status === 'True';
}
