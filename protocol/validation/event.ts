/** Events (core/v1): what happened to which object. */
import { asObject, asString, child, invalid, required, validateEnum, validateMinInteger, type Causes } from './types.js';

export const EVENT_TYPES = ['Normal', 'Warning'] as const;

export function validateEvent(errs: Causes, obj: Record<string, unknown>): void {
  const ip = 'involvedObject';
  const involved = asObject(errs, obj.involvedObject, ip);
  if (obj.involvedObject === undefined || obj.involvedObject === null) errs.push(required(ip));
  if (involved) {
    for (const field of ['kind', 'name']) {
      const v = asString(errs, involved[field], child(ip, field));
      if (v === '' || involved[field] === undefined || involved[field] === null) errs.push(required(child(ip, field)));
    }
    for (const field of ['apiVersion', 'uid', 'resourceVersion', 'fieldPath']) asString(errs, involved[field], child(ip, field));
    const ns = asString(errs, involved.namespace, child(ip, 'namespace'));
    const meta = obj.metadata as Record<string, unknown> | undefined;
    const eventNs = typeof meta === 'object' && meta !== null ? meta.namespace : undefined;
    if (ns && typeof eventNs === 'string' && eventNs !== '' && ns !== eventNs) {
      errs.push(invalid(child(ip, 'namespace'), ns, 'does not match event.namespace'));
    }
  }

  for (const field of ['reason', 'message', 'firstTimestamp', 'lastTimestamp', 'eventTime', 'action', 'reportingComponent', 'reportingInstance']) {
    asString(errs, obj[field], field);
  }
  validateEnum(errs, obj.type, 'type', EVENT_TYPES);
  validateMinInteger(errs, obj.count, 'count', 0);
  const source = asObject(errs, obj.source, 'source');
  if (source) for (const field of ['component', 'host']) asString(errs, source[field], child('source', field));
}
