/** Namespaces: the name (a DNS label, checked with the metadata) is all that is required. */
import { asObject, asStringArray, validateEnum, type Causes } from './types.js';

const NAMESPACE_PHASES = ['Active', 'Terminating'] as const;

export function validateNamespace(errs: Causes, obj: Record<string, unknown>): void {
  const spec = asObject(errs, obj.spec, 'spec');
  if (spec) asStringArray(errs, spec.finalizers, 'spec.finalizers');
  const status = asObject(errs, obj.status, 'status');
  if (status) validateEnum(errs, status.phase, 'status.phase', NAMESPACE_PHASES);
}
