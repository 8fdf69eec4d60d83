/** PersistentVolumes and PersistentVolumeClaims: ValidatePersistentVolume / ValidatePersistentVolumeClaim, the parts kubeact uses. */
import { parseQuantity } from '../quantity.js';
import { absent, asObject, asStringArray, asString, child, invalid, isObject, key, notSupported, required, validateEnum, type Causes, type JsonObject } from './types.js';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'] as const;
export const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'] as const;
const VOLUME_MODES = ['Block', 'Filesystem'] as const;
/** The volume sources a kubeact PersistentVolume may have (directories on a node). */
const PV_SOURCES = ['hostPath', 'local'] as const;

function validateAccessModes(errs: Causes, value: unknown, path: string): void {
  const modes = asStringArray(errs, value, path);
  if (!modes?.length) {
    if (modes || absent(value)) errs.push(required(path));
    return;
  }
  for (const m of modes) if (!(ACCESS_MODES as readonly string[]).includes(m)) errs.push(notSupported(path, m, ACCESS_MODES));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push(invalid(path, modes, 'may not use ReadWriteOncePod with other access modes'));
}

/** `storage` in a resource list: required, a quantity, greater than zero. */
function validateStorage(errs: Causes, list: unknown, path: string): void {
  const obj = asObject(errs, list, path);
  if (!obj || absent(obj.storage)) {
    errs.push(required(obj ? key(path, 'storage') : path));
    return;
  }
  const p = key(path, 'storage');
  const q = parseQuantity(obj.storage);
  if (q === undefined) errs.push(invalid(p, obj.storage, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  else if (q < 0) errs.push(invalid(p, String(obj.storage), 'must be greater than or equal to 0'));
  else if (q === 0) errs.push(invalid(p, String(obj.storage), 'must be greater than zero'));
}

export function validatePersistentVolume(errs: Causes, obj: JsonObject): void {
  const spec = asObject(errs, obj.spec, 'spec');
  if (!spec) {
    if (absent(obj.spec)) errs.push(required('spec'));
    return;
  }
  validateAccessModes(errs, spec.accessModes, 'spec.accessModes');
  validateStorage(errs, spec.capacity, 'spec.capacity');
  validateEnum(errs, spec.persistentVolumeReclaimPolicy, 'spec.persistentVolumeReclaimPolicy', RECLAIM_POLICIES);
  validateEnum(errs, spec.volumeMode, 'spec.volumeMode', VOLUME_MODES);
  asString(errs, spec.storageClassName, 'spec.storageClassName');
  const sources = PV_SOURCES.filter((s) => !absent(spec[s]));
  if (sources.length === 0) errs.push(required('spec', `must specify a volume type (kubeact supports ${PV_SOURCES.join(', ')})`));
  if (sources.length > 1) errs.push({ reason: 'FieldValueForbidden', field: `spec.${sources[1]}`, message: 'Forbidden: may not specify more than 1 volume type' });
  for (const s of sources) {
    const src = asObject(errs, spec[s], child('spec', s));
    if (src && (absent(src.path) || src.path === '')) errs.push(required(`spec.${s}.path`));
    else if (src && typeof src.path === 'string' && !src.path.startsWith('/')) errs.push(invalid(`spec.${s}.path`, src.path, 'must be an absolute path'));
  }
  if (sources.includes('local') && !isObject(spec.nodeAffinity)) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  asObject(errs, spec.nodeAffinity, 'spec.nodeAffinity');
  asObject(errs, spec.claimRef, 'spec.claimRef');
}

export function validatePersistentVolumeClaim(errs: Causes, obj: JsonObject): void {
  const spec = asObject(errs, obj.spec, 'spec');
  if (!spec) {
    if (absent(obj.spec)) errs.push(required('spec'));
    return;
  }
  validateAccessModes(errs, spec.accessModes, 'spec.accessModes');
  const resources = asObject(errs, spec.resources, 'spec.resources');
  validateStorage(errs, resources?.requests, 'spec.resources.requests');
  validateEnum(errs, spec.volumeMode, 'spec.volumeMode', VOLUME_MODES);
  asString(errs, spec.storageClassName, 'spec.storageClassName');
  asString(errs, spec.volumeName, 'spec.volumeName');
}
