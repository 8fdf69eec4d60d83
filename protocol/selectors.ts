/**
 * Label and field selectors with Kubernetes syntax, shared by the API server (lists),
 * the watch client (events) and controllers (matching pods).
 */
import { ApiError, Reason } from './errors.js';
import type { KubeObject } from './objects.js';

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!' };

export type LabelSelector = Requirement[];

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; throws BadRequest on bad syntax. */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  const out: Requirement[] = [];
  if (!text || !text.trim()) return out;
  for (const part of splitTopLevel(text)) {
    const p = part.trim();
    if (!p) continue;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = m[3].split(',').map((v) => v.trim()).filter(Boolean);
      out.push({ key: m[1], op: m[2] as 'in' | 'notin', values });
    } else if ((m = p.match(/^([^\s!=]+)\s*(==|=|!=)\s*([^\s,]*)$/))) {
      out.push({ key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] });
    } else if ((m = p.match(/^!\s*([^\s!=]+)$/))) {
      out.push({ key: m[1], op: '!' });
    } else if ((m = p.match(/^([^\s!=()]+)$/))) {
      out.push({ key: m[1], op: 'exists' });
    } else {
      throw new ApiError(Reason.BadRequest, `unable to parse requirement: "${p}"`);
    }
  }
  return out;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
    }
  });
}

/** A metav1.LabelSelector (matchLabels / matchExpressions) as requirements. */
export function fromLabelSelectorObject(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): LabelSelector {
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) out.push({ key, op: 'in', values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In') out.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (e.operator === 'NotIn') out.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (e.operator === 'Exists') out.push({ key: e.key, op: 'exists' });
    else if (e.operator === 'DoesNotExist') out.push({ key: e.key, op: '!' });
  }
  return out;
}

export type FieldSelector = { path: string; value: string; negate: boolean }[];

export function parseFieldSelector(text: string | undefined): FieldSelector {
  if (!text || !text.trim()) return [];
  return text.split(',').map((part) => {
    const m = part.trim().match(/^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new ApiError(Reason.BadRequest, `invalid field selector: "${part.trim()}"`);
    return { path: m[1], value: m[3], negate: m[2] === '!=' };
  });
}

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export function matchesFields(selector: FieldSelector, obj: KubeObject): boolean {
  return selector.every((f) => (fieldValue(obj, f.path) === f.value) !== f.negate);
}

/** Applies a list request's namespace, label and field selectors to one object. */
export function matchesFilters(obj: KubeObject, opts: { namespace?: string; labelSelector?: string; fieldSelector?: string }): boolean {
  if (opts.namespace && obj.metadata?.namespace !== opts.namespace) return false;
  if (opts.labelSelector && !matchesLabels(parseLabelSelector(opts.labelSelector), obj.metadata?.labels as Record<string, string>)) return false;
  if (opts.fieldSelector && !matchesFields(parseFieldSelector(opts.fieldSelector), obj)) return false;
  return true;
}
