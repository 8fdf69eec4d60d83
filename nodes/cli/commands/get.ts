/** `kubeact get`: tables like kubectl (`-o wide|yaml|json|name`, `-l`, `-n`, `-A`, `-w`). */
import { parseArgs } from 'node:util';
import { ApiError } from '../../../protocol/errors.js';
import { KINDS } from '../../../protocol/kinds.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { describeError } from '../main.js';
import { printTable, toJson, toYaml } from '../printers.js';
import { isNamespaced, kindLabel, parseTargets } from '../resources.js';
import { CliError, openSession, type Output } from '../session.js';

const flags = {
  output: { type: 'string', short: 'o' },
  selector: { type: 'string', short: 'l' },
  'field-selector': { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  watch: { type: 'boolean', short: 'w' },
  'show-labels': { type: 'boolean' },
  'no-headers': { type: 'boolean' },
  server: { type: 'string', short: 's' },
} as const;

const OUTPUTS = ['wide', 'yaml', 'json', 'name'];

export async function getCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true });
  const output = values.output;
  if (output && !OUTPUTS.includes(output)) throw new CliError(`unable to match a printer suitable for the output format "${output}", allowed formats are: ${OUTPUTS.join(',')}`);
  const targets = parseTargets(positionals);
  const all = Boolean(values['all-namespaces']);
  const namespace = all ? undefined : (values.namespace ?? 'default');
  const session = await openSession(values.server);
  let failed = 0;
  try {
    const collected: KubeObject[] = [];
    const sections: string[] = [];
    for (const target of targets) {
      const ns = isNamespaced(target.kind) ? namespace : undefined;
      let items: KubeObject[] = [];
      if (target.names.length) {
        for (const name of target.names) {
          try {
            items.push(await session.client.get(target.kind, name, ns ?? 'default'));
          } catch (e) {
            if (!(e instanceof ApiError)) throw e;
            failed++;
            io.err(describeError(e));
          }
        }
      } else {
        const list = await session.client.list(target.kind, { namespace: ns, labelSelector: values.selector, fieldSelector: values['field-selector'] });
        items = list.items;
      }
      collected.push(...items);
      if (!output || output === 'wide') {
        if (items.length) {
          sections.push(
            printTable(target.kind, items, {
              wide: output === 'wide',
              allNamespaces: all && isNamespaced(target.kind),
              now: Date.now(),
              showLabels: values['show-labels'],
              noHeaders: values['no-headers'],
            }).replace(/\n$/, ''),
          );
        }
      } else if (output === 'name') {
        for (const o of items) sections.push(`${kindLabel(target.kind)}/${o.metadata?.name}`);
      }
    }
    if (output === 'yaml' || output === 'json') {
      const single = targets.length === 1 && targets[0].names.length === 1;
      const doc = single && collected.length === 1 ? collected[0] : { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: collected };
      io.out(output === 'yaml' ? toYaml(doc) : toJson(doc));
    } else if (sections.length) {
      io.out(sections.join(output === 'name' ? '\n' : '\n\n')); // names one per line, tables a blank line apart
    } else if (!failed && !values.watch) {
      const namespaced = targets.some((t) => isNamespaced(t.kind));
      io.err(namespaced && namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
    }
    if (values.watch) {
      if (targets.length !== 1) throw new CliError('you may only specify a single resource type');
      await watchRows(session, targets[0].kind, namespace, values, io);
    }
  } finally {
    await session.close();
  }
  return failed ? 1 : 0;
}

async function watchRows(
  session: Awaited<ReturnType<typeof openSession>>,
  kind: keyof typeof KINDS,
  namespace: string | undefined,
  values: { selector?: string; 'all-namespaces'?: boolean; output?: string },
  io: Output,
): Promise<void> {
  let first = true;
  const watch = await session.client.watch(kind, { namespace: isNamespaced(kind) ? namespace : undefined, labelSelector: values.selector }, (ev) => {
    if (first) return; // the initial list was printed above
    const row = printTable(kind, [ev.object], { wide: values.output === 'wide', allNamespaces: Boolean(values['all-namespaces']), now: Date.now(), noHeaders: true });
    io.out(row.replace(/\n$/, ''));
  });
  first = false;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    session.nc.closed().then(() => resolve());
  });
  watch.stop();
}
