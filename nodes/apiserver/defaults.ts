/** Defaulting on create, as kube-apiserver does, so stored objects read the same as in Kubernetes. */
import { randomBytes, randomUUID } from 'node:crypto';
import { KINDS, type Kind } from '../../protocol/kinds.js';
import { DEFAULT_NAMESPACE, nowTimestamp, type KubeObject } from '../../protocol/objects.js';

/** `generateName` + 5 random characters from Kubernetes' alphabet (no vowels, no confusable digits). */
export function generateName(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  let suffix = '';
  for (const b of bytes) suffix += alphabet[b % alphabet.length];
  return `${prefix}${suffix}`;
}

/** Fills in what the user may leave out (namespace, apiVersion); runs before validation. */
export function defaultMetadata(kind: Kind, obj: KubeObject, requestNamespace?: string): void {
  obj.metadata ??= {};
  const meta = obj.metadata;
  obj.apiVersion ??= KINDS[kind].apiVersion;
  if (KINDS[kind].namespaced) meta.namespace ??= requestNamespace ?? DEFAULT_NAMESPACE;
  else delete meta.namespace;
  if (!meta.name && meta.generateName && typeof meta.generateName === 'string') meta.name = generateName(meta.generateName);
}

/** System fields set once, at creation. */
export function stampCreation(obj: KubeObject, now = Date.now()): void {
  const meta = obj.metadata!;
  meta.uid = randomUUID();
  meta.creationTimestamp = nowTimestamp(now);
  meta.generation = 1;
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
}

/** Spec and status defaults per kind (only where Kubernetes has them and kubeact uses them). */
export function defaultSpec(kind: Kind, obj: KubeObject): void {
  if (kind === 'Pod') defaultPod(obj);
  if (kind === 'Deployment' || kind === 'ReplicaSet') defaultWorkload(kind, obj);
  if (kind === 'Namespace') defaultNamespace(obj);
  if (kind === 'Service') defaultService(obj);
  if (kind === 'HorizontalPodAutoscaler') defaultHpa(obj);
  if (kind === 'NetworkPolicy') defaultNetworkPolicy(obj);
  if (kind === 'Secret') defaultSecret(obj);
  if (kind === 'PersistentVolume' || kind === 'PersistentVolumeClaim') defaultStorage(kind, obj);
  if (kind === 'StorageClass') defaultStorageClass(obj);
}

/**
 * Every namespace carries `kubernetes.io/metadata.name: <name>` (set on create and update, as the
 * NamespaceDefaultLabelName admission does), so a NetworkPolicy namespaceSelector can pick one by name.
 */
function defaultNamespace(obj: KubeObject): void {
  obj.status = { phase: obj.status?.phase ?? 'Active' };
  const meta = obj.metadata!;
  if (typeof meta.name !== 'string' || !meta.name) return;
  const labels = meta.labels && typeof meta.labels === 'object' && !Array.isArray(meta.labels) ? meta.labels : {};
  meta.labels = { ...labels, 'kubernetes.io/metadata.name': meta.name };
}

/**
 * NetworkPolicy defaults (SetDefaults_NetworkPolicy): podSelector `{}`, ports' protocol TCP, and
 * policyTypes from the rules when not given: Ingress always, Egress when there are egress rules.
 */
function defaultNetworkPolicy(obj: KubeObject): void {
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
  spec.podSelector ??= {};
  const rules = [spec.ingress, spec.egress].flatMap((r) => (Array.isArray(r) ? r : []));
  for (const rule of rules) {
    if (!rule || typeof rule !== 'object' || !Array.isArray(rule.ports)) continue;
    for (const p of rule.ports) if (p && typeof p === 'object' && !Array.isArray(p)) p.protocol ??= 'TCP';
  }
  if (spec.policyTypes === undefined || spec.policyTypes === null || (Array.isArray(spec.policyTypes) && spec.policyTypes.length === 0)) {
    spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
}

/** Kinds whose content is top-level fields rather than `spec`: what apply and update carry over. */
export const CONTENT_FIELDS: Partial<Record<Kind, readonly string[]>> = {
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  StorageClass: ['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode', 'allowVolumeExpansion', 'mountOptions'],
};

/**
 * Secret: `type` defaults to Opaque; `stringData` (write-only, as in Kubernetes) is merged into
 * `data` base64-encoded, its keys winning, and is not stored.
 */
function defaultSecret(obj: KubeObject & { type?: unknown; data?: unknown; stringData?: unknown }): void {
  if (obj.type === undefined || obj.type === null) obj.type = 'Opaque';
  const stringData = obj.stringData;
  if (!stringData || typeof stringData !== 'object' || Array.isArray(stringData)) return;
  if (Object.values(stringData).some((v) => typeof v !== 'string')) return; // left for validation to report
  if (obj.data !== undefined && (typeof obj.data !== 'object' || obj.data === null || Array.isArray(obj.data))) return;
  const data = { ...((obj.data as Record<string, string>) ?? {}) };
  for (const [k, v] of Object.entries(stringData as Record<string, string>)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  obj.data = data;
  delete obj.stringData;
}

/**
 * Service defaults (SetDefaults_Service): type ClusterIP, sessionAffinity None (ClientIP gets a
 * 3 h timeout), single-stack IPv4, internalTrafficPolicy Cluster, externalTrafficPolicy Cluster
 * for NodePort/LoadBalancer, ports' protocol TCP and targetPort = port. ClusterIP and node ports
 * are allocated later (service-ips.ts), after validation.
 */
function defaultService(obj: KubeObject): void {
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'ClientIP') {
    spec.sessionAffinityConfig ??= { clientIP: { timeoutSeconds: 10800 } };
    const cfg = spec.sessionAffinityConfig;
    if (cfg && typeof cfg === 'object' && !Array.isArray(cfg)) {
      cfg.clientIP ??= {};
      if (cfg.clientIP && typeof cfg.clientIP === 'object') cfg.clientIP.timeoutSeconds ??= 10800;
    }
  }
  if (spec.type !== 'ExternalName') {
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.ipFamilies ??= ['IPv4'];
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!p || typeof p !== 'object') continue;
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  obj.status = { loadBalancer: {} }; // a new Service starts with an empty status (updates keep the stored one)
}

function defaultPod(obj: KubeObject): void {
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object') return;
  defaultPodSpec(spec);
  obj.status = { phase: 'Pending', qosClass: qosClass(spec), ...(obj.status ?? {}) };
}

/** apps/v1 defaults: 1 replica; RollingUpdate 25%/25%; 10 revisions kept; 600 s progress deadline. */
function defaultWorkload(kind: Kind, obj: KubeObject): void {
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
  spec.replicas ??= 1;
  if (kind === 'Deployment') {
    spec.strategy ??= { type: 'RollingUpdate' };
    if (spec.strategy && typeof spec.strategy === 'object') {
      spec.strategy.type ??= 'RollingUpdate';
      if (spec.strategy.type === 'RollingUpdate') {
        spec.strategy.rollingUpdate ??= {};
        if (spec.strategy.rollingUpdate && typeof spec.strategy.rollingUpdate === 'object') {
          spec.strategy.rollingUpdate.maxSurge ??= '25%';
          spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
        }
      }
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
  }
  const template = spec.template;
  if (template && typeof template === 'object' && template.spec && typeof template.spec === 'object' && !Array.isArray(template.spec)) defaultPodSpec(template.spec);
}

function defaultPodSpec(spec: any): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  for (const c of [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])]) {
    if (!c || typeof c !== 'object') continue;
    if (typeof c.image === 'string') c.imagePullPolicy ??= c.image.endsWith(':latest') || !c.image.includes(':') ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    for (const p of Array.isArray(c.ports) ? c.ports : []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  }
}

/** Guaranteed when every container has equal cpu+memory requests and limits, BestEffort with none. */
function qosClass(spec: any): string {
  const containers: any[] = Array.isArray(spec.containers) ? spec.containers : [];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c?.resources?.requests ?? {};
    const lim = c?.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || String(q) !== String(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** SetDefaults_HorizontalPodAutoscaler: minReplicas 1; no metrics means 80% CPU utilization. */
function defaultHpa(obj: KubeObject): void {
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
}

/** PersistentVolume: reclaim policy Retain, volumeMode Filesystem; both start in phase Pending (as kube-apiserver stores them). */
function defaultStorage(kind: Kind, obj: KubeObject): void {
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
  if (kind === 'PersistentVolume') spec.persistentVolumeReclaimPolicy ??= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  if (!obj.status || typeof obj.status !== 'object') obj.status = { phase: 'Pending' };
}

/** SetDefaults_StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate. */
function defaultStorageClass(obj: KubeObject & { reclaimPolicy?: unknown; volumeBindingMode?: unknown }): void {
  if (obj.reclaimPolicy === undefined || obj.reclaimPolicy === null) obj.reclaimPolicy = 'Delete';
  if (obj.volumeBindingMode === undefined || obj.volumeBindingMode === null) obj.volumeBindingMode = 'Immediate';
}
