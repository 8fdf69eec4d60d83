/** Labels, label selectors' keys and annotations, as apimachinery's ValidateLabels/ValidateAnnotations. */
import { isQualifiedName, isValidLabelValue } from './names.js';
import { asStringMap, invalid, tooLong, type Causes } from './types.js';

/** 256 KiB: the most all of an object's annotations (keys + values) may add up to. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** A label key: errors are reported on the map's path with the key as the bad value, as kube does. */
export function validateLabelName(errs: Causes, name: string, path: string): void {
  for (const msg of isQualifiedName(name)) errs.push(invalid(path, name, msg));
}

/** A map of label keys to label values (metadata.labels, spec.nodeSelector). */
export function validateLabels(errs: Causes, value: unknown, path: string): void {
  const labels = asStringMap(errs, value, path);
  if (!labels) return;
  for (const [k, v] of Object.entries(labels)) {
    validateLabelName(errs, k, path);
    for (const msg of isValidLabelValue(v)) errs.push(invalid(path, v, msg));
  }
}

export function validateAnnotations(errs: Causes, value: unknown, path: string): void {
  const annotations = asStringMap(errs, value, path);
  if (!annotations) return;
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, msg));
    total += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
}
