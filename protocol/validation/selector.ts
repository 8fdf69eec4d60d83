/** metav1.LabelSelector (matchLabels / matchExpressions), as unversioned ValidateLabelSelector checks it. */
import { validateLabelName, validateLabels } from './labels.js';
import { asArray, asObject, asString, child, forbidden, index, required, validateEnum, type Causes, type JsonObject } from './types.js';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/**
 * Reports every problem of a label selector at `path`; returns it when it has none (an empty
 * selector `{}` is valid here: what it means is up to the field).
 */
export function validateLabelSelector(errs: Causes, value: unknown, path: string): JsonObject | undefined {
  const sel = asObject(errs, value, path);
  if (!sel) return undefined;
  const before = errs.length;
  validateLabels(errs, sel.matchLabels, child(path, 'matchLabels'));
  const exprs = asArray(errs, sel.matchExpressions ?? [], child(path, 'matchExpressions')) ?? [];
  exprs.forEach((raw, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    const e = asObject(errs, raw, p);
    if (!e) return;
    const key = asString(errs, e.key, child(p, 'key'));
    if (key) validateLabelName(errs, key, child(p, 'key'));
    const op = validateEnum(errs, e.operator, child(p, 'operator'), OPERATORS);
    const values = asArray(errs, e.values ?? [], child(p, 'values')) ?? [];
    if ((op === 'In' || op === 'NotIn') && values.length === 0) errs.push(required(child(p, 'values'), 'must be specified when `operator` is \'In\' or \'NotIn\''));
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) errs.push(forbidden(child(p, 'values'), 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
  });
  return errs.length > before ? undefined : sel;
}

/** Whether a (valid) selector has no requirement at all: `{}` selects everything. */
export function isEmptySelector(sel: JsonObject): boolean {
  const labels = sel.matchLabels;
  const exprs = sel.matchExpressions;
  return (!labels || Object.keys(labels as object).length === 0) && (!Array.isArray(exprs) || exprs.length === 0);
}
