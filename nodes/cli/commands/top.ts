/**
 * `kubeact top pods|nodes`: resource usage from the metrics server, in kubectl's layout.
 *   kubeact top pods [NAME] [-n NS | -A] [-l SELECTOR] [--containers] [--sort-by cpu|memory]
 *   kubeact top nodes [NAME] [--sort-by cpu|memory]
 */
import { parseArgs } from 'node:util';
import { ApiError, Reason } from '../../../protocol/errors.js';
import type { Node } from '../../../protocol/objects.js';
import { CliError, openSession, type Output } from '../session.js';
import { printTopNodes, printTopPods } from '../top-printers.js';

const USAGE = 'usage: kubeact top pods|nodes [NAME] [flags]';

export async function topCommand(args: string[], io: Output): Promise<number> {
  const [what, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      server: { type: 'string', short: 's' },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      selector: { type: 'string', short: 'l' },
      containers: { type: 'boolean' },
      'sort-by': { type: 'string' },
    },
    allowPositionals: true,
  });
  const sortBy = values['sort-by'];
  if (sortBy !== undefined && sortBy !== 'cpu' && sortBy !== 'memory') throw new CliError(`--sort-by accepts only cpu or memory`);
  const kind = what === 'pod' || what === 'pods' || what === 'po' ? 'pods' : what === 'node' || what === 'nodes' || what === 'no' ? 'nodes' : undefined;
  if (!kind) throw new CliError(what ? `unknown command "${what}" for "kubeact top"\n${USAGE}` : USAGE);
  const session = await openSession(values.server);
  try {
    const name = positionals[0];
    if (kind === 'nodes') {
      const [metrics, nodes] = await Promise.all([session.client.nodeMetrics({ name }).catch(unavailable), session.client.list<Node>('Node')]);
      if (name && !metrics.items.length) throw new CliError(`metrics not available yet`);
      io.out(printTopNodes(metrics.items, nodes.items, sortBy));
      return 0;
    }
    const all = Boolean(values['all-namespaces']);
    const namespace = all ? undefined : (values.namespace ?? 'default');
    const metrics = await session.client.podMetrics({ namespace, name, labelSelector: values.selector }).catch(unavailable);
    if (!metrics.items.length) {
      if (name) throw new CliError(`pods "${name}" not found or metrics not available yet`);
      io.err(all ? 'No resources found' : `No resources found in ${namespace} namespace.`);
      return 0;
    }
    io.out(printTopPods(metrics.items, { allNamespaces: all, containers: Boolean(values.containers), sortBy }));
    return 0;
  } finally {
    await session.close();
  }
}

function unavailable(e: unknown): never {
  if (e instanceof ApiError && e.reason === Reason.ServiceUnavailable) throw new CliError('Metrics API not available');
  throw e;
}
