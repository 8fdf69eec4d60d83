/**
 * `kubeact expose (TYPE NAME | TYPE/NAME) [--port N] [--target-port N|NAME] [--protocol TCP]
 *   [--type ClusterIP|NodePort|LoadBalancer] [--name NAME] [--selector k=v,...] [--cluster-ip IP|None]
 *   [--external-ip IP] [--session-affinity None|ClientIP] [--labels k=v,...] [--dry-run=client|none] [-o yaml|json]`
 *
 * kubectl's expose: a Service selecting what a Deployment or ReplicaSet selects (its
 * `selector.matchLabels`), what a Service selects, or a Pod's labels. Without `--port` the ports
 * come from the containers (named `port-1`, `port-2`, ... when there are several); the target port
 * defaults to the port. The Service carries the exposed object's labels and its name unless `--name`.
 */
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../../protocol/objects.js';
import { toJson, toYaml } from '../printers.js';
import { parseOneTarget } from '../resources.js';
import { CliError, openSession, type Output } from '../session.js';

const flags = {
  port: { type: 'string' },
  'target-port': { type: 'string' },
  protocol: { type: 'string' },
  type: { type: 'string' },
  name: { type: 'string' },
  selector: { type: 'string' },
  labels: { type: 'string', short: 'l' },
  'cluster-ip': { type: 'string' },
  'external-ip': { type: 'string' },
  'session-affinity': { type: 'string' },
  'dry-run': { type: 'string' },
  output: { type: 'string', short: 'o' },
  namespace: { type: 'string', short: 'n' },
  server: { type: 'string', short: 's' },
} as const;

const EXPOSABLE = ['Pod', 'Service', 'Deployment', 'ReplicaSet'];

/** `a=b,c=d` → a map; kubectl's error words for a bad pair. */
function parseMap(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid ${what} "${pair}": expected key=value`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** kubectl's MapBasedSelectorForObject. */
function selectorOf(obj: KubeObject): Record<string, string> {
  switch (obj.kind) {
    case 'Pod': {
      const labels = obj.metadata?.labels ?? {};
      if (!Object.keys(labels).length) throw new CliError(`couldn't retrieve selectors via --selector flag or introspection: the pod has no labels and cannot be exposed`);
      return { ...labels };
    }
    case 'Service': {
      const sel = obj.spec?.selector ?? {};
      if (!Object.keys(sel).length) throw new CliError(`couldn't retrieve selectors via --selector flag or introspection: the service has no pod selector set`);
      return { ...sel };
    }
    default: {
      const sel = obj.spec?.selector ?? {};
      if (sel.matchExpressions?.length) throw new CliError(`couldn't convert expressions - "${JSON.stringify(sel.matchExpressions)}" to map-based selector format`);
      if (!Object.keys(sel.matchLabels ?? {}).length) throw new CliError(`couldn't retrieve selectors via --selector flag or introspection: the ${String(obj.kind).toLowerCase()} has no selector`);
      return { ...sel.matchLabels };
    }
  }
}

/** kubectl's PortsForObject / ProtocolsForObject: the containers' ports, or a Service's ports. */
function portsOf(obj: KubeObject): Array<{ port: number; protocol: string }> {
  if (obj.kind === 'Service') return (obj.spec?.ports ?? []).map((p: any) => ({ port: p.port, protocol: p.protocol ?? 'TCP' }));
  const spec = obj.kind === 'Pod' ? obj.spec : obj.spec?.template?.spec;
  const out: Array<{ port: number; protocol: string }> = [];
  for (const c of spec?.containers ?? []) for (const p of c.ports ?? []) out.push({ port: p.containerPort, protocol: p.protocol ?? 'TCP' });
  return out;
}

function intOrName(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

export async function exposeCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true });
  const { kind, name } = parseOneTarget(positionals);
  if (!EXPOSABLE.includes(kind)) throw new CliError(`cannot expose a ${kind}`);
  const dryRun = values['dry-run'];
  if (dryRun !== undefined && !['client', 'server', 'none'].includes(dryRun)) throw new CliError(`Invalid dry-run value (${dryRun}). Must be "none", "server", or "client".`);
  if (dryRun === 'server') throw new CliError('--dry-run=server is not supported by kubeact: use --dry-run=client');
  const output = values.output;
  if (output && output !== 'yaml' && output !== 'json' && output !== 'name') throw new CliError(`unable to match a printer suitable for the output format "${output}", allowed formats are: json,name,yaml`);
  const namespace = values.namespace ?? 'default';
  const session = await openSession(values.server);
  try {
    const obj = await session.client.get(kind, name, namespace);
    obj.kind ??= kind;
    const selector = values.selector ? parseMap(values.selector, 'selector') : selectorOf(obj);

    let ports: Array<{ name?: string; port: number; protocol: string; targetPort: number | string }>;
    const protocol = values.protocol;
    if (values.port !== undefined) {
      const port = Number(values.port);
      if (!Number.isInteger(port)) throw new CliError(`invalid --port "${values.port}": must be an integer`);
      ports = [{ port, protocol: protocol ?? 'TCP', targetPort: values['target-port'] !== undefined ? intOrName(values['target-port']) : port }];
    } else {
      const found = portsOf(obj);
      if (!found.length) throw new CliError(`couldn't find port via --port flag or introspection`);
      ports = found.map((p, i) => ({
        ...(found.length > 1 ? { name: `port-${i + 1}` } : {}),
        port: p.port,
        protocol: protocol ?? p.protocol,
        targetPort: values['target-port'] !== undefined ? intOrName(values['target-port']) : p.port,
      }));
    }

    const labels = values.labels ? parseMap(values.labels, 'label') : { ...(obj.metadata?.labels ?? {}) };
    const spec: Record<string, unknown> = { ports, selector };
    if (values.type) spec.type = values.type;
    if (values['cluster-ip']) spec.clusterIP = values['cluster-ip'];
    if (values['external-ip']) spec.externalIPs = values['external-ip'].split(',').filter(Boolean);
    if (values['session-affinity']) spec.sessionAffinity = values['session-affinity'];
    const service: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: values.name ?? name, namespace, ...(Object.keys(labels).length ? { labels } : {}) },
      spec,
    };

    const created = dryRun === 'client' ? service : await session.client.create(service);
    if (output === 'yaml') io.out(toYaml(created));
    else if (output === 'json') io.out(toJson(created));
    else if (output === 'name') io.out(`service/${created.metadata?.name}`);
    else io.out(`service/${created.metadata?.name} exposed${dryRun === 'client' ? ' (dry run)' : ''}`);
  } finally {
    await session.close();
  }
  return 0;
}
