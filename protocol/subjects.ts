/**
 * Every NATS subject kubeact uses is built here and nowhere else.
 *
 * Layout (tokens in <> are variables):
 *   kubeact.api.<verb>.<plural>                 API server request/reply endpoints
 *   kubeact.apiprio.<verb>.<plural>             the same endpoints at the node-critical priority level
 *                                               (Lease renewals, Node status: served first, own connection)
 *   kubeact.watch.<plural>.<namespace>.<name>   watch events published by the API server
 *   kubeact.watch.pods.<namespace>.<name>.<node> a pod's watch events: `<node>` is its spec.nodeName
 *                                               (`_` while unbound), so a kubelet subscribes to its
 *                                               node's pods and each event is published once
 *   kubeact.apiserver.started                   published by the API server each time it starts serving
 *   kubeact.node.<node>.logs                    container logs served by that node's kubelet
 *   kubeact.node.<node>.volumes                 local-path volume directories made/removed by that node's kubelet
 *   kubeact.node.<node>.proxy.metrics           that node's kube-proxy counters (published)
 *   kubeact.node.<node>.metrics                 that node's kubelet resource samples (published)
 *   kubeact.metrics.<pods|nodes|traffic>        the metrics server's request/reply endpoints
 *   kubeact.inspect.rec.<process>.<kind>.<ns>.<name>  inspection records of one actor (stream KUBEACT_INSPECT)
 *   kubeact.inspect.web                          request: the URL of the web inspector
 * Node-scoped subjects carry the node name as a token, so a NATS account can later be
 * limited to its own node's subjects.
 */
import type { Plural } from './kinds.js';

export const ROOT = 'kubeact';

export const API_VERBS = ['create', 'apply', 'get', 'list', 'update', 'updateStatus', 'delete', 'bind', 'bindMany', 'createMany'] as const;
export type ApiVerb = (typeof API_VERBS)[number];

/** Token used for cluster-scoped objects in place of a namespace. */
export const CLUSTER_SCOPE = '_';

/** The node token of an unbound pod's watch subject (no node name is `_`: names are DNS subdomains). */
export const UNBOUND = '_';

/** Name of the NATS micro-service of the API server (answers `$SRV.PING.kubeact-apiserver`). */
export const API_SERVICE_NAME = 'kubeact-apiserver';

/** NATS tokens may not contain `.`, `*`, `>` or whitespace; names may contain dots. */
function token(value: string): string {
  return value.replace(/[.*>\s]/g, '_');
}

export const subjects = {
  /** Request subject of one API verb on one kind. */
  api(verb: ApiVerb, plural: Plural): string {
    return `${ROOT}.api.${verb}.${plural}`;
  },
  /** Subscription for every endpoint of one verb (used by the service to register it). */
  apiVerbAll(verb: ApiVerb): string {
    return `${ROOT}.api.${verb}.*`;
  },
  /**
   * Request subject of one API verb on one kind at the node-critical priority level (kube's
   * `system-node-high`): what a kubelet's heartbeat sends (Lease renewals in kube-node-lease,
   * its Node's get/updateStatus). The API server serves it on a connection of its own, ahead of
   * queued workload requests; a request on it that is not node-critical is served as workload.
   */
  apiPriority(verb: ApiVerb, plural: Plural): string {
    return `${ROOT}.apiprio.${verb}.${plural}`;
  },
  /** Subscription for every node-critical endpoint of one verb. */
  apiPriorityVerbAll(verb: ApiVerb): string {
    return `${ROOT}.apiprio.${verb}.*`;
  },
  /** Parses `kubeact.api.<verb>.<plural>` (or `kubeact.apiprio.…`); undefined when the subject is not an API subject. */
  parseApi(subject: string): { verb: string; plural: string; priority: boolean } | undefined {
    const parts = subject.split('.');
    if (parts.length !== 4 || parts[0] !== ROOT || (parts[1] !== 'api' && parts[1] !== 'apiprio')) return undefined;
    return { verb: parts[2], plural: parts[3], priority: parts[1] === 'apiprio' };
  },
  /** Watch event of one object; a pod's also names its node (`nodeName`: its spec.nodeName, none while unbound). */
  watch(plural: Plural, namespace: string | undefined, name: string, nodeName?: string): string {
    const subject = `${ROOT}.watch.${plural}.${token(namespace ?? CLUSTER_SCOPE)}.${token(name)}`;
    return plural === 'pods' ? `${subject}.${nodeName ? token(nodeName) : UNBOUND}` : subject;
  },
  /** Subscription for the watch events of one object. */
  watchOne(plural: Plural, namespace: string | undefined, name: string): string {
    const subject = `${ROOT}.watch.${plural}.${token(namespace ?? CLUSTER_SCOPE)}.${token(name)}`;
    return plural === 'pods' ? `${subject}.*` : subject;
  },
  /** Subscription for watch events of a kind, optionally within a namespace. */
  watchAll(plural: Plural, namespace?: string): string {
    return `${ROOT}.watch.${plural}.${namespace ? token(namespace) : '*'}.*${plural === 'pods' ? '.*' : ''}`;
  },
  /**
   * The API server announces here that it serves (again): events a killed predecessor never
   * published are lost, so watchers relist on it.
   */
  apiServerStarted(): string {
    return `${ROOT}.apiserver.started`;
  },
  /** Subscription for the watch events of pods bound to one node (the pod watch subjects naming it). */
  nodePods(nodeName: string): string {
    return `${ROOT}.watch.pods.*.*.${token(nodeName)}`;
  },
  /** Log requests served by one node's kubelet. */
  nodeLogs(nodeName: string): string {
    return `${ROOT}.node.${token(nodeName)}.logs`;
  },
  /** Requests to one node's kubelet to create or remove a provisioned volume's directory (LocalVolumeRequest). */
  nodeVolumes(nodeName: string): string {
    return `${ROOT}.node.${token(nodeName)}.volumes`;
  },
  /** Snapshots of one node's kube-proxy counters (ProxyMetrics), published periodically. */
  proxyMetrics(nodeName: string): string {
    return `${ROOT}.node.${token(nodeName)}.proxy.metrics`;
  },
  /** Subscription for every node's kube-proxy snapshots. */
  proxyMetricsAll(): string {
    return `${ROOT}.node.*.proxy.metrics`;
  },
  /** Resource samples of one node's kubelet (NodeMetricsReport), published periodically. */
  nodeMetrics(nodeName: string): string {
    return `${ROOT}.node.${token(nodeName)}.metrics`;
  },
  /** Subscription for every kubelet's samples. */
  nodeMetricsAll(): string {
    return `${ROOT}.node.*.metrics`;
  },
  /** Request/reply endpoints of the metrics server. */
  metrics(resource: 'pods' | 'nodes' | 'traffic'): string {
    return `${ROOT}.metrics.${resource}`;
  },
  /** Inspection records of one actor, published by the process hosting it (see protocol/inspect.ts). */
  inspectRecords(processName: string, kind: string, namespace: string | undefined, name: string): string {
    return `${ROOT}.inspect.rec.${token(processName)}.${token(kind)}.${token(namespace ?? CLUSTER_SCOPE)}.${token(name)}`;
  },
  /** Filter for the records of one actor (any process), or of every actor when no argument is given. */
  inspectRecordsOf(kind?: string, namespace?: string, name?: string): string {
    if (!kind) return `${ROOT}.inspect.rec.>`;
    return `${ROOT}.inspect.rec.*.${token(kind)}.${name ? token(namespace ?? CLUSTER_SCOPE) : '*'}.${name ? token(name) : '*'}`;
  },
  /** Request/reply: the control plane answers with the web inspector's URL. */
  inspectWeb(): string {
    return `${ROOT}.inspect.web`;
  },
} as const;
