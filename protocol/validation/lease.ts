/** Leases (coordination.k8s.io/v1): node heartbeats and leader election. */
import { asInteger, asObject, asString, invalid, validateMinInteger, type Causes } from './types.js';

export function validateLease(errs: Causes, obj: Record<string, unknown>): void {
  const spec = asObject(errs, obj.spec, 'spec');
  if (!spec) return;
  for (const field of ['holderIdentity', 'acquireTime', 'renewTime', 'strategy', 'preferredHolder']) asString(errs, spec[field], `spec.${field}`);
  const duration = asInteger(errs, spec.leaseDurationSeconds, 'spec.leaseDurationSeconds');
  if (duration !== undefined && duration <= 0) errs.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  validateMinInteger(errs, spec.leaseTransitions, 'spec.leaseTransitions', 0);
}
