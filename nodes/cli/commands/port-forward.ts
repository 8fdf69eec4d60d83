/**
 * `kubeact port-forward TYPE/NAME [LOCAL:]REMOTE...` (pod, svc, deploy, rs; a bare NAME is a
 * pod): listens on 127.0.0.1:LOCAL and carries each connection to the chosen pod's IP and port,
 * printing `Forwarding from 127.0.0.1:LOCAL -> REMOTE` and `Handling connection for LOCAL` as
 * kubectl does, until SIGINT/SIGTERM (exit 0) or until the pod goes away (`lost connection to
 * pod`, exit 1). Pod IPs are loopback addresses on the cluster's host, so the CLI connects to
 * them itself (kubectl tunnels through the kubelet instead); only TCP, as in kubectl.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { endpointPod, parsePortMapping, pickPod, podPort, type PortMapping } from '../port-forward-target.js';
import { kindOrThrow } from '../resources.js';
import { CliError, openSession, type Output } from '../session.js';

const flags = {
  namespace: { type: 'string', short: 'n' },
  address: { type: 'string', default: '127.0.0.1' },
  server: { type: 'string', short: 's' },
} as const;

const USAGE = 'kubeact port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...[LOCAL_PORT_N:]REMOTE_PORT_N]';

export async function portForwardCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true });
  const [targetText, ...portTexts] = positionals;
  if (!targetText || !portTexts.length) throw new CliError(`TYPE/NAME and list of ports are required for port-forward\nUsage: ${USAGE}`);
  const address = values.address;
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) && address !== 'localhost') throw new CliError(`--address ${address}: kubeact forwards on loopback addresses (127.0.0.0/8) only`);
  const host = address === 'localhost' ? '127.0.0.1' : address;
  const mappings = portTexts.map(parsePortMapping);
  const namespace = values.namespace ?? 'default';
  const slash = targetText.indexOf('/');
  const kind = slash < 0 ? 'Pod' : kindOrThrow(targetText.slice(0, slash));
  const name = slash < 0 ? targetText : targetText.slice(slash + 1);
  if (!name) throw new CliError('arguments in resource/name form must have a single resource and name');

  const session = await openSession(values.server);
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  let watch: { stop(): void } | undefined;
  let onSignal: (() => void) | undefined;
  try {
    const { pod, service } = await resolveTarget(session.client, kind, name, namespace);
    if (pod.status?.phase !== 'Running') throw new CliError(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? 'Unknown'}`);
    const podIP = pod.status?.podIP;
    if (!podIP) throw new CliError(`pod ${pod.metadata?.name} has no IP yet`);
    const forwards = mappings.map((m) => ({ mapping: m, port: podPort(pod, m.remote, service) }));

    let stop!: (code: number) => void;
    const stopped = new Promise<number>((resolve) => (stop = resolve));
    // Before "Forwarding from" is printed: a Ctrl-C right after it (while the pod watch is still
    // being set up) must end the command cleanly (exit 0), not by the signal's default action.
    onSignal = () => stop(0);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const podName = pod.metadata!.name!;
    const uid = pod.metadata!.uid;
    const gone = (p: Pod | undefined) => !p || p.metadata?.uid !== uid || !!p.metadata?.deletionTimestamp || (!!p.status?.phase && p.status.phase !== 'Running');
    let ended = false;
    const lost = () => {
      if (ended) return;
      ended = true;
      io.err('error: lost connection to pod');
      stop(1);
    };
    // The watch before "Forwarding from": a pod deleted once a user (or script) saw that line
    // always ends the command. A change between the first read and the watch is read once more.
    watch = await session.client.watch<KubeObject>('Pod', { namespace, fieldSelector: `metadata.name=${podName}` }, (ev) => {
      const p = ev.object as Pod;
      if (p.metadata?.uid !== uid) return;
      if (ev.type === 'DELETED' || gone(p)) lost();
    });
    if (gone(await session.client.find<Pod>('Pod', podName, namespace))) lost();
    if (ended) return await stopped;
    for (const f of forwards) servers.push(await listen(host, f.mapping, f.port, podIP, io, sockets));
    for (let i = 0; i < forwards.length; i++) io.out(`Forwarding from ${host}:${(servers[i].address() as net.AddressInfo).port} -> ${forwards[i].port}`);
    return await stopped;
  } finally {
    if (onSignal) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    watch?.stop();
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await session.close();
  }
}

async function resolveTarget(client: import('../../../protocol/client.js').ApiClient, kind: string, name: string, namespace: string): Promise<{ pod: Pod; service?: Service }> {
  switch (kind) {
    case 'Pod':
      return { pod: await client.get<Pod>('Pod', name, namespace) };
    case 'Service': {
      const service = await client.get<Service>('Service', name, namespace);
      if (!service.spec?.selector || !Object.keys(service.spec.selector).length) {
        throw new CliError(`cannot attach to *v1.Service: invalid service '${name}': Service is defined without a selector`);
      }
      const endpoints = (await client.find('Endpoints', name, namespace)) as Endpoints | undefined;
      const podName = endpointPod(endpoints);
      if (!podName) throw new CliError(`service/${name} has no ready endpoints: no pod to forward to`);
      return { pod: await client.get<Pod>('Pod', podName, namespace), service };
    }
    case 'Deployment':
    case 'ReplicaSet': {
      const owner = await client.get<KubeObject>(kind, name, namespace);
      const pods = (await client.list<Pod>('Pod', { namespace })).items;
      const pod = pickPod(owner.spec?.selector, pods);
      if (!pod) throw new CliError(`no pods found for ${kind.toLowerCase()}/${name}`);
      return { pod };
    }
    default:
      throw new CliError(`cannot attach to ${kind}: only pods, services, deployments and replicasets can be port-forwarded`);
  }
}

/** One listener: each connection is piped to podIP:port. */
async function listen(host: string, mapping: PortMapping, port: number, podIP: string, io: Output, sockets: Set<net.Socket>): Promise<net.Server> {
  const server = net.createServer((client) => {
    const local = (server.address() as net.AddressInfo).port;
    io.out(`Handling connection for ${local}`);
    sockets.add(client);
    const upstream = net.connect(port, podIP);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', (e) => {
      io.err(`error: an error occurred forwarding ${local} -> ${port}: ${e.message}`);
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => {
      sockets.delete(client);
      upstream.end();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new CliError(`unable to listen on port ${mapping.local}: ${e.code === 'EADDRINUSE' ? `address ${host}:${mapping.local} already in use` : e.message}`)),
    );
    server.listen(mapping.local, host, () => resolve());
  });
  return server;
}
