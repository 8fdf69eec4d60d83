/** `kubeact describe KIND [NAME]`: details and the object's Events. */
import { parseArgs } from 'node:util';
import { NODE_LEASE_NAMESPACE, type Event, type KubeObject, type Lease, type Pod } from '../../../protocol/objects.js';
import { describe } from '../describe.js';
import { podsUsingClaim } from '../describe-storage.js';
import { isNamespaced, parseTargets } from '../resources.js';
import { CliError, openSession, type Output } from '../session.js';

const flags = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  selector: { type: 'string', short: 'l' },
  server: { type: 'string', short: 's' },
} as const;

export async function describeCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true });
  const targets = parseTargets(positionals);
  const namespace = values['all-namespaces'] ? undefined : (values.namespace ?? 'default');
  const session = await openSession(values.server);
  try {
    const blocks: string[] = [];
    for (const t of targets) {
      const ns = isNamespaced(t.kind) ? namespace : undefined;
      const objects: KubeObject[] = t.names.length
        ? await Promise.all(t.names.map((n) => session.client.get(t.kind, n, ns ?? 'default')))
        : (await session.client.list(t.kind, { namespace: ns, labelSelector: values.selector })).items;
      for (const obj of objects) {
        const events = await session.client.list<Event & KubeObject>('Event', {
          namespace: obj.metadata?.namespace ?? (isNamespaced(t.kind) ? undefined : 'default'),
          fieldSelector: `involvedObject.kind=${t.kind},involvedObject.name=${obj.metadata?.name}`,
        });
        const own = events.items.filter((e) => !e.involvedObject?.uid || e.involvedObject.uid === obj.metadata?.uid);
        const extras =
          t.kind === 'Node'
            ? {
                lease: (await session.client.find<Lease & KubeObject>('Lease', obj.metadata!.name!, NODE_LEASE_NAMESPACE)) ?? null,
                pods: (await session.client.list<Pod & KubeObject>('Pod', { fieldSelector: `spec.nodeName=${obj.metadata!.name}` })).items as Pod[],
              }
            : t.kind === 'Service'
              ? { endpoints: (await session.client.find('Endpoints', obj.metadata!.name!, obj.metadata?.namespace)) ?? null }
              : t.kind === 'PersistentVolumeClaim'
                ? { pods: podsUsingClaim((await session.client.list<Pod & KubeObject>('Pod', { namespace: obj.metadata?.namespace })).items as Pod[], obj) }
                : undefined;
        blocks.push(describe(t.kind, obj, own as Event[], Date.now(), extras).replace(/\n$/, ''));
      }
    }
    if (!blocks.length) throw new CliError(namespace ? `No resources found in ${namespace} namespace.` : 'No resources found');
    io.out(blocks.join('\n\n\n'));
  } finally {
    await session.close();
  }
  return 0;
}
