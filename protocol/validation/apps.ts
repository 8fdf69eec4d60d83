/** Deployments and ReplicaSets (apps/v1), as ValidateDeployment / ValidateReplicaSet do. */
import { fromLabelSelectorObject, matchesLabels } from '../selectors.js';
import { validateLabels } from './labels.js';
import { isEmptySelector, validateLabelSelector } from './selector.js';
import { validatePodSpec } from './pod.js';
import {
  asObject,
  child,
  deepEqual,
  forbidden,
  invalid,
  isObject,
  notSupported,
  required,
  typeInvalid,
  validateEnum,
  validateMinInteger,
  type Causes,
  type JsonObject,
} from './types.js';

/** metav1.LabelSelector; returns it when it is a usable, non-empty selector. */
function validateSelector(errs: Causes, value: unknown, path: string): JsonObject | undefined {
  if (value === undefined || value === null) {
    errs.push(required(path));
    return undefined;
  }
  const sel = validateLabelSelector(errs, value, path);
  if (!sel) return undefined;
  if (isEmptySelector(sel)) {
    errs.push(invalid(path, 'null', 'empty selector is invalid for deployment'));
    return undefined;
  }
  return sel;
}

/** `spec.template`: labels matching the selector, and a pod spec that restarts Always. */
function validateTemplate(errs: Causes, value: unknown, path: string, selector: JsonObject | undefined): void {
  if (value === undefined || value === null) {
    errs.push(required(path));
    return;
  }
  const template = asObject(errs, value, path);
  if (!template) return;
  const meta = asObject(errs, template.metadata ?? {}, child(path, 'metadata')) ?? {};
  const labelsPath = child(child(path, 'metadata'), 'labels');
  validateLabels(errs, meta.labels, labelsPath);
  const labels = isObject(meta.labels) ? (meta.labels as Record<string, string>) : {};
  if (selector && !matchesLabels(fromLabelSelectorObject(selector as never), labels)) {
    errs.push(invalid(labelsPath, labels, '`selector` does not match template `labels`'));
  }
  const specPath = child(path, 'spec');
  validatePodSpec(errs, template.spec ?? {}, specPath);
  const spec = isObject(template.spec) ? template.spec : {};
  if (spec.restartPolicy !== undefined && spec.restartPolicy !== 'Always' && typeof spec.restartPolicy === 'string') {
    errs.push(notSupported(child(specPath, 'restartPolicy'), spec.restartPolicy, ['Always']));
  }
  if (spec.activeDeadlineSeconds !== undefined) errs.push(forbidden(child(specPath, 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicaSet is not Supported'));
}

/** An int or a percentage string: returns the number (or the percent, flagged) when valid. */
function intOrPercent(errs: Causes, value: unknown, path: string, maxPercent?: number): { value: number; percent: boolean } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      errs.push(typeInvalid(path, value, 'integer or string'));
      return undefined;
    }
    if (value < 0) {
      errs.push(invalid(path, value, 'must be greater than or equal to 0'));
      return undefined;
    }
    return { value, percent: false };
  }
  if (typeof value === 'string') {
    const m = value.match(/^(\d+)%$/);
    if (!m) {
      errs.push(invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
      return undefined;
    }
    const pct = Number(m[1]);
    if (maxPercent !== undefined && pct > maxPercent) {
      errs.push(invalid(path, value, 'must not be greater than 100%'));
      return undefined;
    }
    return { value: pct, percent: true };
  }
  errs.push(typeInvalid(path, value, 'integer or string'));
  return undefined;
}

function validateStrategy(errs: Causes, value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  const strategy = asObject(errs, value, path);
  if (!strategy) return;
  const type = validateEnum(errs, strategy.type ?? 'RollingUpdate', child(path, 'type'), ['Recreate', 'RollingUpdate']);
  const ruPath = child(path, 'rollingUpdate');
  if (type === 'Recreate' && strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
    errs.push(forbidden(ruPath, "may not be specified when strategy `type` is 'Recreate'"));
    return;
  }
  const ru = asObject(errs, strategy.rollingUpdate ?? {}, ruPath);
  if (!ru) return;
  const surge = intOrPercent(errs, ru.maxSurge, child(ruPath, 'maxSurge'));
  const unavailable = intOrPercent(errs, ru.maxUnavailable, child(ruPath, 'maxUnavailable'), 100);
  if (surge && unavailable && surge.value === 0 && unavailable.value === 0) {
    errs.push(invalid(child(ruPath, 'maxUnavailable'), ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
}

function validateReplicasAndSelector(errs: Causes, spec: JsonObject): JsonObject | undefined {
  validateMinInteger(errs, spec.replicas, 'spec.replicas', 0);
  validateMinInteger(errs, spec.minReadySeconds, 'spec.minReadySeconds', 0);
  const selector = validateSelector(errs, spec.selector, 'spec.selector');
  validateTemplate(errs, spec.template, 'spec.template', selector);
  return selector;
}

export function validateDeployment(errs: Causes, obj: JsonObject): void {
  const spec = asObject(errs, obj.spec ?? {}, 'spec');
  if (!spec) return;
  validateReplicasAndSelector(errs, spec);
  validateStrategy(errs, spec.strategy, 'spec.strategy');
  validateMinInteger(errs, spec.revisionHistoryLimit, 'spec.revisionHistoryLimit', 0);
  const deadline = validateMinInteger(errs, spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds', 1);
  const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
  if (deadline !== undefined && deadline <= minReady) errs.push(invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  if (spec.paused !== undefined && typeof spec.paused !== 'boolean') errs.push(typeInvalid('spec.paused', spec.paused, 'boolean'));
}

export function validateReplicaSet(errs: Causes, obj: JsonObject): void {
  const spec = asObject(errs, obj.spec ?? {}, 'spec');
  if (!spec) return;
  validateReplicasAndSelector(errs, spec);
}

/** apps/v1: the selector is immutable. */
export function validateSelectorUpdate(errs: Causes, obj: JsonObject, old: JsonObject): void {
  const a = isObject(obj.spec) ? obj.spec.selector : undefined;
  const b = isObject(old.spec) ? old.spec.selector : undefined;
  if (!deepEqual(a, b)) errs.push(invalid('spec.selector', a ?? null, 'field is immutable'));
}
