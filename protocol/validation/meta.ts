/** ObjectMeta, as apimachinery's ValidateObjectMeta / ValidateObjectMetaUpdate. */
import { validateAnnotations, validateLabels } from './labels.js';
import { isDNS1123Label, type NameValidator } from './names.js';
import {
  asInteger,
  asObject,
  asString,
  asStringArray,
  child,
  forbidden,
  invalid,
  objectItems,
  required,
  validateMinInteger,
  type Causes,
  type JsonObject,
} from './types.js';

export interface MetaRules {
  /** Namespaced kinds may carry metadata.namespace; cluster-scoped kinds may not. */
  namespaced: boolean;
  /** How metadata.name (and generateName) must look for this kind. */
  nameFn: NameValidator;
}

const PATH = 'metadata';

/** Validates metadata (required: an object with a name or a generateName); returns it when it is an object. */
export function validateObjectMeta(errs: Causes, value: unknown, rules: MetaRules): JsonObject | undefined {
  const meta = asObject(errs, value, PATH);
  if (!meta) {
    if (value === undefined || value === null) errs.push(required(child(PATH, 'name'), 'name or generateName is required'));
    return undefined;
  }
  const namePath = child(PATH, 'name');
  const generateNamePath = child(PATH, 'generateName');
  const name = asString(errs, meta.name, namePath);
  const generateName = asString(errs, meta.generateName, generateNamePath);

  if (generateName) for (const msg of rules.nameFn(generateName, true)) errs.push(invalid(generateNamePath, generateName, msg));
  if (name) {
    for (const msg of rules.nameFn(name, false)) errs.push(invalid(namePath, name, msg));
  } else if (!generateName && (meta.name === undefined || meta.name === null || meta.name === '')) {
    errs.push(required(namePath, 'name or generateName is required'));
  }

  const nsPath = child(PATH, 'namespace');
  const namespace = asString(errs, meta.namespace, nsPath);
  if (namespace) {
    if (!rules.namespaced) errs.push(forbidden(nsPath, 'not allowed on this type'));
    else for (const msg of isDNS1123Label(namespace)) errs.push(invalid(nsPath, namespace, msg));
  }

  validateLabels(errs, meta.labels, child(PATH, 'labels'));
  validateAnnotations(errs, meta.annotations, child(PATH, 'annotations'));

  for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp']) asString(errs, meta[field], child(PATH, field));
  validateMinInteger(errs, meta.generation, child(PATH, 'generation'), 0);
  asInteger(errs, meta.deletionGracePeriodSeconds, child(PATH, 'deletionGracePeriodSeconds'));
  asStringArray(errs, meta.finalizers, child(PATH, 'finalizers'));

  let controllers = 0;
  for (const [ref, refPath] of objectItems(errs, meta.ownerReferences, child(PATH, 'ownerReferences'))) {
    for (const field of ['apiVersion', 'kind', 'name']) {
      const raw = ref[field];
      asString(errs, raw, child(refPath, field));
      if (raw === undefined || raw === null || raw === '') {
        errs.push(invalid(child(refPath, field), '', `${field === 'apiVersion' ? 'version' : field} must not be empty`));
      }
    }
    asString(errs, ref.uid, child(refPath, 'uid'));
    if (ref.controller === true) controllers++;
  }
  if (controllers > 1) {
    errs.push(invalid(child(PATH, 'ownerReferences'), `${controllers} controller references`, 'Only one reference can have Controller set to true'));
  }
  return meta;
}

/** The identity of an object never changes: name, namespace and uid are immutable. */
export function validateObjectMetaUpdate(errs: Causes, value: unknown, oldValue: unknown): void {
  if (!isPlain(value) || !isPlain(oldValue)) return;
  for (const field of ['name', 'namespace', 'uid']) {
    const now = value[field];
    const before = oldValue[field];
    if (typeof now === 'string' && typeof before === 'string' && now !== '' && before !== '' && now !== before) {
      errs.push(invalid(child(PATH, field), now, 'field is immutable'));
    }
  }
  // As ValidateObjectMetaUpdate: an object being deleted may lose finalizers, never gain one.
  if (typeof oldValue.deletionTimestamp === 'string' && oldValue.deletionTimestamp) {
    const before = Array.isArray(oldValue.finalizers) ? oldValue.finalizers : [];
    const added = (Array.isArray(value.finalizers) ? value.finalizers : []).filter((f) => !before.includes(f));
    if (added.length) {
      errs.push(forbidden(child(PATH, 'finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`));
    }
  }
}

function isPlain(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
