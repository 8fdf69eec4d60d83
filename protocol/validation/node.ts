/** Nodes: spec (unschedulable, podCIDR, taints) and the resources the node reports. */
import { validateLabelName } from './labels.js';
import { isCIDR, isValidLabelValue } from './names.js';
import { TAINT_EFFECTS } from './pod.js';
import { validateResourceList } from './resources.js';
import {
  asBoolean,
  asObject,
  asString,
  asStringArray,
  child,
  duplicate,
  forbidden,
  index,
  invalid,
  isObject,
  objectItems,
  required,
  validateEnum,
  type Causes,
} from './types.js';

const CIDR_ERROR = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';
const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export function validateNode(errs: Causes, obj: Record<string, unknown>): void {
  const spec = asObject(errs, obj.spec, 'spec');
  if (spec) {
    asBoolean(errs, spec.unschedulable, 'spec.unschedulable');
    asString(errs, spec.providerID, 'spec.providerID');
    const podCIDR = asString(errs, spec.podCIDR, 'spec.podCIDR');
    if (podCIDR && !isCIDR(podCIDR)) errs.push(invalid('spec.podCIDR', podCIDR, CIDR_ERROR));
    const cidrs = asStringArray(errs, spec.podCIDRs, 'spec.podCIDRs') ?? [];
    cidrs.forEach((c, i) => {
      if (!isCIDR(c)) errs.push(invalid(index('spec.podCIDRs', i), c, CIDR_ERROR));
    });

    const seen = new Set<string>();
    for (const [taint, tp] of objectItems(errs, spec.taints, 'spec.taints')) {
      const kp = child(tp, 'key');
      const key = asString(errs, taint.key, kp);
      if (key === undefined || key === '') {
        if (key === '' || taint.key === undefined || taint.key === null) errs.push(required(kp));
      } else validateLabelName(errs, key, kp);
      const value = asString(errs, taint.value, child(tp, 'value'));
      if (value) for (const msg of isValidLabelValue(value)) errs.push(invalid(child(tp, 'value'), value, msg));
      const ep = child(tp, 'effect');
      if (taint.effect === undefined || taint.effect === null || taint.effect === '') errs.push(required(ep));
      const effect = validateEnum(errs, taint.effect === '' ? undefined : taint.effect, ep, TAINT_EFFECTS);
      asString(errs, taint.timeAdded, child(tp, 'timeAdded'));
      const pair = `${key ?? ''}:${effect ?? ''}`;
      if (key && effect && seen.has(pair)) errs.push(duplicate(tp, pair));
      seen.add(pair);
    }
  }

  const status = asObject(errs, obj.status, 'status');
  if (status) {
    validateResourceList(errs, status.capacity, 'status.capacity', 'node');
    validateResourceList(errs, status.allocatable, 'status.allocatable', 'node');
    for (const [cond, cp] of objectItems(errs, status.conditions, 'status.conditions')) {
      const type = asString(errs, cond.type, child(cp, 'type'));
      if (!type && (cond.type === undefined || cond.type === null || cond.type === '')) errs.push(required(child(cp, 'type')));
      validateEnum(errs, cond.status, child(cp, 'status'), CONDITION_STATUSES);
      for (const field of ['reason', 'message', 'lastHeartbeatTime', 'lastTransitionTime']) asString(errs, cond[field], child(cp, field));
    }
    for (const [addr, ap] of objectItems(errs, status.addresses, 'status.addresses')) {
      asString(errs, addr.type, child(ap, 'type'));
      asString(errs, addr.address, child(ap, 'address'));
    }
    asObject(errs, status.nodeInfo, 'status.nodeInfo');
  }
}

/** podCIDR and providerID may go from unset to set, never change after. */
export function validateNodeUpdate(errs: Causes, obj: Record<string, unknown>, old: Record<string, unknown>): void {
  if (!isObject(obj.spec) || !isObject(old.spec)) return;
  for (const field of ['podCIDR', 'providerID']) {
    const before = old.spec[field];
    if (typeof before === 'string' && before !== '' && obj.spec[field] !== before) {
      errs.push(forbidden(`spec.${field}`, `node updates may not change ${field} except from "" to valid`));
    }
  }
  const beforeCIDRs = old.spec.podCIDRs;
  if (Array.isArray(beforeCIDRs) && beforeCIDRs.length > 0) {
    const now = obj.spec.podCIDRs;
    if (!Array.isArray(now) || now.length !== beforeCIDRs.length || now.some((c, i) => c !== beforeCIDRs[i])) {
      errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
    }
  }
}
