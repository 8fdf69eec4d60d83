/**
 * Reads what `-f` points at (files, folders, `-` for stdin, http(s) URLs) into objects,
 * as kubectl does: multi-document YAML, JSON (one object or a stream of them), `kind: List`
 * expanded, empty documents skipped. Every object is checked for `apiVersion`, `kind` and a
 * kind this cluster serves before anything is returned, so nothing is sent when one is wrong.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { KINDS, isKind } from '../../protocol/kinds.js';
import type { KubeObject } from '../../protocol/objects.js';

/** The file extensions a folder is searched for, as kubectl's `FileExtensions`. */
export const MANIFEST_EXTENSIONS = ['.json', '.yaml', '.yml'];

/** What kubectl calls the source when reading `-f -`. */
export const STDIN_SOURCE = 'STDIN';

/**
 * One or more problems with the manifests. `message` is ready to print: one
 * `error: ...` line per problem; `problems` holds the same lines without the prefix.
 */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.map((p) => `error: ${p}`).join('\n'));
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** `-R`: descend into sub-folders of a folder source. */
  recursive?: boolean;
}

const sources = new WeakMap<object, string>();

/** The file (or `STDIN`, or URL) an object was read from, for messages like `error when creating "pod.yaml"`. */
export function sourceOf(obj: KubeObject): string | undefined {
  return sources.get(obj);
}

/**
 * Loads every object from the `-f` values, in order. Throws a {@link ManifestError}
 * listing every problem found (all sources are read first), so a caller sends nothing
 * unless every object is well-formed and of a served kind.
 */
export async function loadManifests(sourceArgs: string[], readStdin: () => Promise<string>, opts: LoadOptions = {}): Promise<KubeObject[]> {
  const problems: string[] = [];
  const objects: KubeObject[] = [];
  let stdin: Promise<string> | undefined;

  for (const arg of sourceArgs) {
    let files: Array<{ name: string; read: () => Promise<string> }>;
    if (arg === '-') {
      stdin ??= readStdin();
      const text = stdin;
      files = [{ name: STDIN_SOURCE, read: () => text }];
    } else if (/^https?:\/\//i.test(arg)) {
      files = [{ name: arg, read: () => readUrl(arg) }];
    } else {
      try {
        files = (await expandPath(arg, Boolean(opts.recursive))).map((p) => ({ name: p, read: () => readFile(p, 'utf8') }));
      } catch (e) {
        problems.push((e as Error).message);
        continue;
      }
    }
    for (const file of files) {
      let text: string;
      try {
        text = await file.read();
      } catch (e) {
        problems.push(e instanceof SourceProblem ? e.message : `unable to read "${file.name}": ${(e as Error).message}`);
        continue;
      }
      const result = parseManifests(text, file.name);
      problems.push(...result.problems);
      objects.push(...result.objects);
    }
  }
  if (problems.length) throw new ManifestError(problems);
  return objects;
}

/**
 * Parses one source's text. Pure: returns the objects and the problems (kubectl's
 * wording, without the `error: ` prefix), each naming `source`.
 */
export function parseManifests(text: string, source: string): { objects: KubeObject[]; problems: string[] } {
  const objects: KubeObject[] = [];
  const problems: string[] = [];
  let docs: unknown[];
  try {
    docs = looksLikeJson(text) ? parseJsonStream(text) : parseYamlStream(text);
  } catch (e) {
    problems.push(`error parsing ${source}: ${(e as Error).message}`);
    return { objects, problems };
  }
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue; // empty document
    collect(doc, source, objects, problems);
  }
  return { objects, problems };
}

class SourceProblem extends Error {}

function collect(doc: unknown, source: string, objects: KubeObject[], problems: string[], listKind?: string): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    const what = Array.isArray(doc) ? 'a list' : `a ${typeof doc}`;
    problems.push(`unable to decode "${source}": expected an object with apiVersion and kind, but the document is ${what}: ${truncate(JSON.stringify(doc))}`);
    return;
  }
  const obj = doc as KubeObject;
  // Items of a typed list (`PodList`) may leave out their own kind, as API responses do.
  if (listKind) {
    if (obj.kind === undefined) obj.kind = listKind;
    if (obj.apiVersion === undefined && isKind(listKind)) obj.apiVersion = KINDS[listKind].apiVersion;
  }
  if (typeof obj.kind !== 'string' || obj.kind === '') {
    problems.push(`unable to decode "${source}": Object 'Kind' is missing in '${JSON.stringify(obj)}'`);
    return;
  }
  if (typeof obj.apiVersion !== 'string' || obj.apiVersion === '') {
    problems.push(`unable to decode "${source}": Object 'apiVersion' is missing in '${JSON.stringify(obj)}'`);
    return;
  }
  const items = (obj as { items?: unknown }).items;
  if (obj.kind === 'List' || (obj.kind.endsWith('List') && isKind(obj.kind.slice(0, -4)) && items !== undefined)) {
    if (items !== null && items !== undefined && !Array.isArray(items)) {
      problems.push(`unable to decode "${source}": the items of a ${obj.kind} must be a list, got '${truncate(JSON.stringify(items))}'`);
      return;
    }
    const itemKind = obj.kind === 'List' ? undefined : obj.kind.slice(0, -4);
    for (const item of (items as unknown[] | null | undefined) ?? []) collect(item, source, objects, problems, itemKind);
    return;
  }
  const meta = (typeof obj.metadata === 'object' && obj.metadata !== null ? obj.metadata : {}) as { name?: unknown; namespace?: unknown };
  const name = typeof meta.name === 'string' ? meta.name : '';
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : '';
  if (!isKind(obj.kind) || KINDS[obj.kind].apiVersion !== obj.apiVersion) {
    problems.push(
      `resource mapping not found for name: "${name}" namespace: "${namespace}" from "${source}": no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`,
    );
    return;
  }
  sources.set(obj, source);
  objects.push(obj);
}

function truncate(s: string | undefined, max = 200): string {
  if (s === undefined) return '';
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

// ---------------------------------------------------------------------------------------
// YAML

/** The yaml library's wording for the mistakes people make most, in go-yaml's (kubectl's) words. */
function goYamlMessage(err: YAML.YAMLError, text: string): string {
  const first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  switch (err.code) {
    case 'BLOCK_AS_IMPLICIT_KEY':
      return /Nested mappings/.test(first) ? 'mapping values are not allowed in this context' : lowerFirst(first);
    case 'TAB_AS_INDENT':
      return 'found character that cannot start any token';
    case 'DUPLICATE_KEY': {
      const key = text.slice(err.pos[0]).match(/^("[^"\n]*"|'[^'\n]*'|[^:\n]+?)\s*:/)?.[1];
      return key ? `key ${JSON.stringify(key.replace(/^(["'])(.*)\1$/, '$2'))} already set in map` : 'map keys must be unique';
    }
    default:
      return lowerFirst(first);
  }
}

function lowerFirst(s: string): string {
  return s ? s[0].toLowerCase() + s.slice(1) : s;
}

function parseYamlStream(text: string): unknown[] {
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : []; // an EmptyStream is not an array
  const values: unknown[] = [];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line ?? lineAt(text, err.pos[0]);
      throw new Error(`error converting YAML to JSON: yaml: line ${line}: ${goYamlMessage(err, text)}`);
    }
    try {
      values.push(doc.toJS({ maxAliasCount: 100 }));
    } catch (e) {
      const line = lineAt(text, doc.range[0]);
      throw new Error(`error converting YAML to JSON: yaml: line ${line}: ${lowerFirst((e as Error).message)}`);
    }
  }
  return values;
}

// ---------------------------------------------------------------------------------------
// JSON: one value, or a stream of values (`{...}{...}` / one per line), as kubectl accepts.

function looksLikeJson(text: string): boolean {
  const first = text.match(/^\s*(\S)/)?.[1];
  return first === '{' || first === '[';
}

function parseJsonStream(text: string): unknown[] {
  const values: unknown[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i])) i++;
    if (i >= n) break;
    const start = i;
    const end = scanJsonValue(text, i);
    const chunk = text.slice(start, end);
    try {
      values.push(JSON.parse(chunk));
    } catch (e) {
      const m = (e as Error).message.match(/^(.*?)(?: in JSON)? at position (\d+)/s);
      const pos = m ? start + Number(m[2]) : start;
      const message = m ? m[1] : (e as Error).message;
      throw new Error(`json: line ${lineAt(text, pos)}: ${lowerFirst(message.replace(/\s*\(line \d+ column \d+\)$/, ''))}`);
    }
    i = end;
  }
  return values;
}

/** Where the JSON value starting at `i` ends (its brackets balanced, strings skipped). */
function scanJsonValue(text: string, i: number): number {
  const open = text[i];
  if (open !== '{' && open !== '[') {
    // A scalar: up to the next whitespace or bracket; JSON.parse judges it.
    let j = i;
    while (j < text.length && !/[\s{}[\]]/.test(text[j])) j++;
    return Math.max(j, i + 1);
  }
  let depth = 0;
  let inString = false;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return text.length; // unbalanced: JSON.parse reports where
}

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

// ---------------------------------------------------------------------------------------
// Paths and URLs

/** A file as is; a folder as its manifest files, sorted (and its sub-folders' with `recursive`). */
async function expandPath(path: string, recursive: boolean): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new SourceProblem(`the path "${path}" does not exist`);
  }
  if (!info.isDirectory()) return [path];
  const files: string[] = [];
  await walk(path, recursive, files);
  return files;
}

async function walk(dir: string, recursive: boolean, out: string[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined);
      isDir = Boolean(target?.isDirectory());
      isFile = Boolean(target?.isFile());
    }
    if (isDir) {
      if (recursive) await walk(full, recursive, out);
    } else if (isFile && MANIFEST_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
      out.push(full);
    }
  }
}

async function readUrl(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new SourceProblem(`unable to read URL "${url}": ${(e as Error).message}`);
  }
  if (!res.ok) throw new SourceProblem(`unable to read URL "${url}", server reported ${res.status} ${res.statusText}, status code=${res.status}`);
  return res.text();
}
