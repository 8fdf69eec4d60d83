/**
 * Object validation as kube-apiserver does it: every problem at once, as FieldCauses worded like field.Error.
 *  - envelope: the body is an object; kind is one of KINDS; apiVersion is the kind's (`v1`, `coordination.k8s.io/v1`).
 *  - JSON types everywhere (never throws): a wrong type is a FieldValueTypeInvalid cause in kube-openapi's words.
 *  - metadata: name (or generateName) as a DNS-1123 subdomain (Namespace: label); namespace a DNS label, and only on
 *    namespaced kinds; labels (qualified keys, ≤63-char values); annotation keys and ≤256 KiB total; ownerReferences.
 *  - Pod: containers (required, non-empty) and initContainers: unique DNS-label names, image, command/args, env
 *    (names, valueFrom), ports (1..65535, TCP/UDP/SCTP, IANA names, unique), resources (quantities ≥ 0, request ≤
 *    limit), volumeMounts, probes (one handler, thresholds); restartPolicy, dnsPolicy, nodeSelector, nodeName,
 *    terminationGracePeriodSeconds, activeDeadlineSeconds, tolerations, volumes.
 *  - Pod update: only images, activeDeadlineSeconds (down), tolerations (additions), terminationGracePeriodSeconds
 *    change; nodeName can be set once (binding), never moved. Node update: podCIDR/providerID set once.
 *  - Node (unschedulable, podCIDR, taints, capacity/allocatable), Event (involvedObject, type, count), Lease (durations).
 *  - Deployment / ReplicaSet: replicas ≥ 0, a non-empty selector matching the template labels (immutable), the
 *    template's pod spec (restartPolicy Always), strategy (maxSurge/maxUnavailable int or %, not both 0),
 *    revisionHistoryLimit, progressDeadlineSeconds > minReadySeconds.
 *  - HorizontalPodAutoscaler (hpa.ts): target ref, 1 ≤ minReplicas ≤ maxReplicas, metrics (Resource/Pods/Object with
 *    targets of the right type), behavior (windows 0..3600 s, policies Pods/Percent with periods 1..1800 s).
 *  - NetworkPolicy: selectors, rules' ports (protocol, number/name, endPort) and peers (ipBlock alone, CIDR, except
 *    strictly inside cidr), policyTypes.
 *  - PersistentVolume / PersistentVolumeClaim: access modes (required, known), storage capacity / request
 *    (required, > 0), reclaim policy, one volume source (hostPath or local, absolute path; local needs nodeAffinity).
 *  - ConfigMap / Secret: keys (IsConfigMapKey), at most 1 MiB of data, base64 values (Secret data, ConfigMap
 *    binaryData), the keys a built-in Secret type needs; `immutable` data and a Secret's type cannot change.
 *  - Size: checkObjectSize rejects encoded objects over MAX_OBJECT_BYTES (1 MiB) with RequestEntityTooLarge.
 */
import { ApiError, type FieldCause } from '../errors.js';
import { KIND_NAMES, KINDS, isKind, type Kind } from '../kinds.js';
import type { KubeObject } from '../objects.js';
import { validateDeployment, validateReplicaSet, validateSelectorUpdate } from './apps.js';
import { validateConfigMap, validateConfigUpdate, validateSecret } from './config.js';
import { validatePersistentVolume, validatePersistentVolumeClaim } from './storage.js';
import { validateStorageClass, validateStorageClassUpdate } from './storage-class.js';
import { validateEvent } from './event.js';
import { validateHorizontalPodAutoscaler } from './hpa.js';
import { validateEndpoints, validateService, validateServiceUpdate } from './service.js';
import { validateLease } from './lease.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { nameIsDNSLabel, nameIsDNSSubdomain, type NameValidator } from './names.js';
import { validateNamespace } from './namespace.js';
import { validateNetworkPolicy } from './netpol.js';
import { validateNode, validateNodeUpdate } from './node.js';
import { validatePodSpec, validatePodSpecUpdate } from './pod.js';
import { asObject, invalid, isObject, notSupported, required, typeInvalid, type Causes, type JsonObject } from './types.js';

export { MAX_OBJECT_BYTES, checkObjectSize, objectSize } from './size.js';
export { MAX_CONFIG_DATA_BYTES, isConfigKey, isBase64 } from './config.js';
export { POD_UPDATE_FORBIDDEN } from './pod.js';
export { TOTAL_ANNOTATION_SIZE_LIMIT } from './labels.js';
export {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isEnvVarName,
  DNS1123_LABEL_ERROR,
  DNS1123_SUBDOMAIN_ERROR,
} from './names.js';

interface KindRules {
  nameFn: NameValidator;
  /** `old`: the stored object, on an update. */
  validate(errs: Causes, obj: JsonObject, old?: JsonObject): void;
  validateUpdate?(errs: Causes, obj: JsonObject, old: JsonObject): void;
}

const RULES: Record<Kind, KindRules> = {
  Namespace: { nameFn: nameIsDNSLabel, validate: validateNamespace },
  Node: { nameFn: nameIsDNSSubdomain, validate: validateNode, validateUpdate: validateNodeUpdate },
  Pod: {
    nameFn: nameIsDNSSubdomain,
    // A status update keeps the stored spec object itself (kube's ValidatePodStatusUpdate does
    // not look at the spec either): it was checked when it was written, so it is not again.
    validate: (errs, obj, old) => {
      if (!(old && obj.spec === old.spec)) validatePodSpec(errs, obj.spec);
      asObject(errs, obj.status, 'status');
    },
    validateUpdate: (errs, obj, old) => obj.spec !== old.spec && validatePodSpecUpdate(errs, obj.spec, old.spec),
  },
  Event: { nameFn: nameIsDNSSubdomain, validate: validateEvent },
  Lease: { nameFn: nameIsDNSSubdomain, validate: validateLease },
  Service: { nameFn: nameIsDNSLabel, validate: validateService, validateUpdate: validateServiceUpdate },
  Endpoints: { nameFn: nameIsDNSSubdomain, validate: validateEndpoints },
  NetworkPolicy: { nameFn: nameIsDNSSubdomain, validate: validateNetworkPolicy },
  Deployment: { nameFn: nameIsDNSSubdomain, validate: validateDeployment, validateUpdate: validateSelectorUpdate },
  ReplicaSet: { nameFn: nameIsDNSSubdomain, validate: validateReplicaSet, validateUpdate: validateSelectorUpdate },
  HorizontalPodAutoscaler: { nameFn: nameIsDNSSubdomain, validate: validateHorizontalPodAutoscaler },
  ConfigMap: { nameFn: nameIsDNSSubdomain, validate: validateConfigMap, validateUpdate: validateConfigUpdate },
  Secret: { nameFn: nameIsDNSSubdomain, validate: validateSecret, validateUpdate: validateConfigUpdate },
  PersistentVolume: { nameFn: nameIsDNSSubdomain, validate: validatePersistentVolume },
  PersistentVolumeClaim: { nameFn: nameIsDNSSubdomain, validate: validatePersistentVolumeClaim },
  StorageClass: { nameFn: nameIsDNSSubdomain, validate: validateStorageClass, validateUpdate: validateStorageClassUpdate },
};

/**
 * Every field error of `obj` (and, when `old` is given, of changing `old` into `obj`); [] when valid.
 * Never throws, whatever `obj` is. The causes go straight into ApiError.invalid(kind, name, causes).
 */
export function validateObject(obj: unknown, old?: KubeObject): FieldCause[] {
  const errs: Causes = [];
  if (!isObject(obj)) {
    errs.push(typeInvalid('', obj, 'object'));
    return errs;
  }

  let kind: Kind | undefined;
  if (obj.kind === undefined || obj.kind === null || obj.kind === '') errs.push(required('kind'));
  else if (typeof obj.kind !== 'string') errs.push(typeInvalid('kind', obj.kind, 'string'));
  else if (!isKind(obj.kind)) errs.push(notSupported('kind', obj.kind, KIND_NAMES));
  else kind = obj.kind;

  if (obj.apiVersion === undefined || obj.apiVersion === null || obj.apiVersion === '') errs.push(required('apiVersion'));
  else if (typeof obj.apiVersion !== 'string') errs.push(typeInvalid('apiVersion', obj.apiVersion, 'string'));
  else if (kind && obj.apiVersion !== KINDS[kind].apiVersion) errs.push(notSupported('apiVersion', obj.apiVersion, [KINDS[kind].apiVersion]));

  const rules = kind ? RULES[kind] : undefined;
  validateObjectMeta(errs, obj.metadata, { namespaced: kind ? KINDS[kind].namespaced : true, nameFn: rules?.nameFn ?? nameIsDNSSubdomain });
  if (!kind || !rules) return errs;
  rules.validate(errs, obj, old && isObject(old) ? (old as JsonObject) : undefined);

  if (old && isObject(old)) {
    if (typeof old.kind === 'string' && old.kind !== kind) errs.push(invalid('kind', kind, 'field is immutable'));
    else {
      validateObjectMetaUpdate(errs, obj.metadata, old.metadata);
      rules.validateUpdate?.(errs, obj, old as JsonObject);
    }
  }
  return errs;
}

/** validateObject, thrown as kube-apiserver answers: 422 Invalid with every cause; nothing when valid. */
export function assertValidObject(obj: unknown, old?: KubeObject): void {
  const causes = validateObject(obj, old);
  if (causes.length === 0) return;
  const o = isObject(obj) ? obj : {};
  const meta = isObject(o.metadata) ? o.metadata : {};
  const kind = typeof o.kind === 'string' && o.kind ? o.kind : 'Object';
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? meta.generateName : '';
  throw ApiError.invalid(kind, name, causes);
}
