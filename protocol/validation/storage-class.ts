/** StorageClass (`storage.k8s.io/v1`): ValidateStorageClass / ValidateStorageClassUpdate, the parts kubeact uses. */
import { isQualifiedName } from './names.js';
import { absent, asBoolean, asStringMap, deepEqual, forbidden, invalid, required, tooLong, validateEnum, asString, type Causes, type JsonObject } from './types.js';

export const STORAGE_CLASS_RECLAIM_POLICIES = ['Delete', 'Retain'] as const;
export const VOLUME_BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'] as const;
/** Total length of parameter keys and values (maxProvisionerParameterLen). */
const MAX_PARAMETERS_LENGTH = 256 * 1024;

export function validateStorageClass(errs: Causes, obj: JsonObject): void {
  const provisioner = asString(errs, obj.provisioner, 'provisioner');
  if (absent(obj.provisioner) || provisioner === '') errs.push(required('provisioner'));
  else if (provisioner !== undefined) {
    for (const msg of isQualifiedName(provisioner.toLowerCase())) errs.push(invalid('provisioner', provisioner, msg));
    if (provisioner.length > 63) errs.push(tooLong('provisioner', 63));
  }
  const params = asStringMap(errs, obj.parameters, 'parameters');
  if (params) {
    let total = 0;
    for (const [k, v] of Object.entries(params)) {
      if (k === '') errs.push(invalid('parameters', params, 'key may not be empty'));
      total += k.length + v.length;
    }
    if (total > MAX_PARAMETERS_LENGTH) errs.push(tooLong('parameters', MAX_PARAMETERS_LENGTH));
  }
  validateEnum(errs, obj.reclaimPolicy, 'reclaimPolicy', STORAGE_CLASS_RECLAIM_POLICIES);
  if (absent(obj.volumeBindingMode)) errs.push(required('volumeBindingMode'));
  else validateEnum(errs, obj.volumeBindingMode, 'volumeBindingMode', VOLUME_BINDING_MODES);
  asBoolean(errs, obj.allowVolumeExpansion, 'allowVolumeExpansion');
}

export function validateStorageClassUpdate(errs: Causes, obj: JsonObject, old: JsonObject): void {
  if (!deepEqual(obj.parameters ?? {}, old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (obj.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (obj.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (obj.volumeBindingMode !== old.volumeBindingMode) errs.push(invalid('volumeBindingMode', obj.volumeBindingMode, 'field is immutable'));
}
