/** Turns what a user types after a verb (`pods`, `pod web`, `po/web`, `pods,nodes`) into targets. */
import { KINDS, groupOf, resolveKind, type Kind } from '../../protocol/kinds.js';
import { CliError } from './session.js';

export interface Target {
  kind: Kind;
  names: string[];
}

export function parseTargets(words: string[]): Target[] {
  if (!words.length) throw new CliError('You must specify the type of resource to get. Use "kubeact api-resources" for a complete list of supported resources.');
  if (words[0].includes('/')) {
    return words.map((w) => {
      const [type, name] = w.split('/', 2);
      if (!name) throw new CliError(`arguments in resource/name form must have a single resource and name`);
      return { kind: kindOrThrow(type), names: [name] };
    });
  }
  const kinds = words[0].split(',').filter(Boolean).map(kindOrThrow);
  const names = words.slice(1);
  return kinds.map((kind) => ({ kind, names }));
}

export function kindOrThrow(word: string): Kind {
  const kind = resolveKind(word);
  if (!kind) throw new CliError(`the server doesn't have a resource type "${word}"`);
  return kind;
}

export function kindLabel(kind: Kind): string {
  return kind.toLowerCase();
}

export function isNamespaced(kind: Kind): boolean {
  return KINDS[kind].namespaced;
}

/** How kubectl names an object in messages: `deployment.apps/web`, `pod/web`. */
export function objectRef(kind: Kind, name: string): string {
  const group = groupOf(KINDS[kind].apiVersion);
  return `${kind.toLowerCase()}${group ? `.${group}` : ''}/${name}`;
}

/** One `TYPE/NAME` or `TYPE NAME` argument pair (as rollout, scale, set image take them). */
export function parseOneTarget(words: string[]): { kind: Kind; name: string; rest: string[] } {
  if (!words.length) throw new CliError('required resource not specified');
  if (words[0].includes('/')) {
    const [type, name] = words[0].split('/', 2);
    if (!name) throw new CliError(`arguments in resource/name form must have a single resource and name`);
    return { kind: kindOrThrow(type), name, rest: words.slice(1) };
  }
  if (!words[1]) throw new CliError(`you must specify the name of the ${words[0]}`);
  return { kind: kindOrThrow(words[0]), name: words[1], rest: words.slice(2) };
}
