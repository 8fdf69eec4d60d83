/** `kubeact logs POD [-c CONTAINER] [-f] [--previous] [--tail N]`, served by the pod's kubelet. */
import { parseArgs } from 'node:util';
import type { Pod } from '../../../protocol/objects.js';
import { CliError, openSession, type Output } from '../session.js';

const flags = {
  container: { type: 'string', short: 'c' },
  follow: { type: 'boolean', short: 'f' },
  previous: { type: 'boolean', short: 'p' },
  tail: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  server: { type: 'string', short: 's' },
} as const;

export async function logsCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true });
  let podName = positionals[0];
  if (!podName) throw new CliError('expected POD_NAME: kubeact logs POD [-c CONTAINER]');
  if (podName.startsWith('pod/') || podName.startsWith('pods/')) podName = podName.slice(podName.indexOf('/') + 1);
  const container = values.container ?? positionals[1];
  const namespace = values.namespace ?? 'default';
  const tailLines = values.tail !== undefined ? Number(values.tail) : undefined;
  if (tailLines !== undefined && !Number.isInteger(tailLines)) throw new CliError(`invalid argument "${values.tail}" for "--tail" flag`);
  const session = await openSession(values.server);
  try {
    const pod = await session.client.get<Pod>('Pod', podName, namespace);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw new CliError(`pod ${podName} is not scheduled to a node yet (Pending): no logs`);
    const req = { namespace, pod: podName, container, previous: values.previous, tailLines: tailLines !== undefined && tailLines >= 0 ? tailLines : undefined };
    if (values.follow) {
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      await session.client.followLogs(nodeName, req, (text) => process.stdout.write(text), abort.signal);
    } else {
      const reply = await session.client.logs(nodeName, req);
      if (reply.text) io.out(reply.text.replace(/\n$/, ''));
    }
  } finally {
    await session.close();
  }
  return 0;
}
