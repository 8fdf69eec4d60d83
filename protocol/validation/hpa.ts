/**
 * HorizontalPodAutoscaler (autoscaling/v2), as ValidateHorizontalPodAutoscaler does it, limited
 * to what kubeact serves: targets Deployment or ReplicaSet; metrics of type Resource (cpu,
 * memory), Pods and Object (ContainerResource and External are refused as not supported).
 */
import { parseQuantity } from '../quantity.js';
import {
  asArray,
  asInteger,
  asObject,
  asString,
  child,
  index,
  invalid,
  notSupported,
  required,
  validateEnum,
  type Causes,
  type JsonObject,
} from './types.js';

export const HPA_TARGET_KINDS = ['Deployment', 'ReplicaSet'] as const;
export const HPA_METRIC_TYPES = ['Object', 'Pods', 'Resource'] as const;
export const HPA_RESOURCES = ['cpu', 'memory'] as const;
const MAX_STABILIZATION_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;

export function validateHorizontalPodAutoscaler(errs: Causes, obj: JsonObject): void {
  const spec = obj.spec === undefined || obj.spec === null ? (errs.push(required('spec')), undefined) : asObject(errs, obj.spec, 'spec');
  if (!spec) return;
  validateTargetRef(errs, spec.scaleTargetRef, 'spec.scaleTargetRef');
  const min = spec.minReplicas === undefined || spec.minReplicas === null ? 1 : asInteger(errs, spec.minReplicas, 'spec.minReplicas');
  if (min !== undefined && min < 1) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (spec.maxReplicas === undefined || spec.maxReplicas === null) errs.push(required('spec.maxReplicas'));
  else {
    const max = asInteger(errs, spec.maxReplicas, 'spec.maxReplicas');
    if (max !== undefined && max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
    else if (max !== undefined && min !== undefined && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  }
  const metrics = asArray(errs, spec.metrics ?? [], 'spec.metrics') ?? [];
  metrics.forEach((m, i) => validateMetric(errs, m, index('spec.metrics', i)));
  if (spec.behavior !== undefined && spec.behavior !== null) {
    const b = asObject(errs, spec.behavior, 'spec.behavior');
    if (b) {
      validateRules(errs, b.scaleUp, 'spec.behavior.scaleUp');
      validateRules(errs, b.scaleDown, 'spec.behavior.scaleDown');
    }
  }
}

function validateTargetRef(errs: Causes, value: unknown, path: string): void {
  if (value === undefined || value === null) {
    errs.push(required(path));
    return;
  }
  const ref = asObject(errs, value, path);
  if (!ref) return;
  if (!ref.kind) errs.push(required(child(path, 'kind')));
  else validateEnum(errs, ref.kind, child(path, 'kind'), HPA_TARGET_KINDS);
  if (!ref.name) errs.push(required(child(path, 'name')));
  else asString(errs, ref.name, child(path, 'name'));
}

function validateMetric(errs: Causes, value: unknown, path: string): void {
  const m = asObject(errs, value, path);
  if (!m) return;
  if (!m.type) {
    errs.push(required(child(path, 'type'), 'must specify a metric source type'));
    return;
  }
  const type = validateEnum(errs, m.type, child(path, 'type'), HPA_METRIC_TYPES);
  if (type === 'Resource') {
    const src = source(errs, m.resource, child(path, 'resource'));
    if (!src) return;
    if (!src.name) errs.push(required(child(path, 'resource.name'), 'must specify a resource name'));
    else validateEnum(errs, src.name, child(path, 'resource.name'), HPA_RESOURCES);
    validateTarget(errs, src.target, child(path, 'resource.target'), ['Utilization', 'AverageValue']);
  } else if (type === 'Pods') {
    const src = source(errs, m.pods, child(path, 'pods'));
    if (!src) return;
    validateMetricName(errs, src.metric, child(path, 'pods.metric'));
    validateTarget(errs, src.target, child(path, 'pods.target'), ['AverageValue']);
  } else if (type === 'Object') {
    const src = source(errs, m.object, child(path, 'object'));
    if (!src) return;
    const d = src.describedObject === undefined || src.describedObject === null ? (errs.push(required(child(path, 'object.describedObject'))), undefined) : asObject(errs, src.describedObject, child(path, 'object.describedObject'));
    if (d) {
      if (!d.kind) errs.push(required(child(path, 'object.describedObject.kind')));
      else validateEnum(errs, d.kind, child(path, 'object.describedObject.kind'), ['Service']);
      if (!d.name) errs.push(required(child(path, 'object.describedObject.name')));
    }
    validateMetricName(errs, src.metric, child(path, 'object.metric'));
    validateTarget(errs, src.target, child(path, 'object.target'), ['Value', 'AverageValue']);
  }
  // A source of another type beside the declared one is an error, as in Kubernetes.
  for (const [field, t] of [['resource', 'Resource'], ['pods', 'Pods'], ['object', 'Object'], ['containerResource', 'ContainerResource'], ['external', 'External']] as const) {
    if (t !== type && m[field] !== undefined && m[field] !== null) errs.push(invalid(child(path, field), '', `must populate the given metric source only`));
  }
}

function source(errs: Causes, value: unknown, path: string): JsonObject | undefined {
  if (value === undefined || value === null) {
    errs.push(required(path, 'must populate information for the given metric source'));
    return undefined;
  }
  return asObject(errs, value, path);
}

/** Request-rate metrics kubeact can serve (from kube-proxy). */
export const HPA_TRAFFIC_METRICS = ['requests_per_second', 'connections_per_second'] as const;

function validateMetricName(errs: Causes, value: unknown, path: string): void {
  const metric = value === undefined || value === null ? (errs.push(required(path)), undefined) : asObject(errs, value, path);
  if (!metric) return;
  if (!metric.name) errs.push(required(child(path, 'name'), 'must specify a metric name'));
  else validateEnum(errs, metric.name, child(path, 'name'), HPA_TRAFFIC_METRICS);
}

function validateTarget(errs: Causes, value: unknown, path: string, types: readonly string[]): void {
  if (value === undefined || value === null) {
    errs.push(required(path, 'must specify a metric target'));
    return;
  }
  const t = asObject(errs, value, path);
  if (!t) return;
  if (!t.type) {
    errs.push(required(child(path, 'type'), 'must specify a metric target type'));
    return;
  }
  const type = validateEnum(errs, t.type, child(path, 'type'), types);
  const positiveQuantity = (field: 'value' | 'averageValue') => {
    const p = child(path, field);
    if (t[field] === undefined || t[field] === null) errs.push(required(p, `must set ${field} when type is ${type}`));
    else {
      const q = parseQuantity(t[field]);
      if (q === undefined) errs.push(invalid(p, t[field], 'quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\''));
      else if (q <= 0) errs.push(invalid(p, t[field], 'must be positive'));
    }
  };
  if (type === 'Utilization') {
    const p = child(path, 'averageUtilization');
    if (t.averageUtilization === undefined || t.averageUtilization === null) errs.push(required(p, 'must set averageUtilization when type is Utilization'));
    else {
      const u = asInteger(errs, t.averageUtilization, p);
      if (u !== undefined && u <= 0) errs.push(invalid(p, u, 'must be greater than 0'));
    }
  } else if (type === 'AverageValue') positiveQuantity('averageValue');
  else if (type === 'Value') positiveQuantity('value');
}

function validateRules(errs: Causes, value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  const r = asObject(errs, value, path);
  if (!r) return;
  if (r.stabilizationWindowSeconds !== undefined && r.stabilizationWindowSeconds !== null) {
    const w = asInteger(errs, r.stabilizationWindowSeconds, child(path, 'stabilizationWindowSeconds'));
    if (w !== undefined && w < 0) errs.push(invalid(child(path, 'stabilizationWindowSeconds'), w, 'must be greater than or equal to zero'));
    if (w !== undefined && w > MAX_STABILIZATION_SECONDS) errs.push(invalid(child(path, 'stabilizationWindowSeconds'), w, `must be less than or equal to ${MAX_STABILIZATION_SECONDS}`));
  }
  if (r.selectPolicy !== undefined && r.selectPolicy !== null) validateEnum(errs, r.selectPolicy, child(path, 'selectPolicy'), ['Disabled', 'Max', 'Min']);
  const policies = asArray(errs, r.policies ?? [], child(path, 'policies')) ?? [];
  if (r.policies !== undefined && r.policies !== null && policies.length === 0 && r.selectPolicy !== 'Disabled') errs.push(required(child(path, 'policies'), 'must specify at least one Policy'));
  policies.forEach((raw, i) => {
    const p = index(child(path, 'policies'), i);
    const pol = asObject(errs, raw, p);
    if (!pol) return;
    if (!pol.type) errs.push(required(child(p, 'type')));
    else validateEnum(errs, pol.type, child(p, 'type'), ['Percent', 'Pods']);
    const v = pol.value === undefined || pol.value === null ? (errs.push(required(child(p, 'value'))), undefined) : asInteger(errs, pol.value, child(p, 'value'));
    if (v !== undefined && v <= 0) errs.push(invalid(child(p, 'value'), v, 'must be greater than zero'));
    const s = pol.periodSeconds === undefined || pol.periodSeconds === null ? (errs.push(required(child(p, 'periodSeconds'))), undefined) : asInteger(errs, pol.periodSeconds, child(p, 'periodSeconds'));
    if (s !== undefined && s <= 0) errs.push(invalid(child(p, 'periodSeconds'), s, 'must be greater than zero'));
    if (s !== undefined && s > MAX_PERIOD_SECONDS) errs.push(invalid(child(p, 'periodSeconds'), s, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
}
