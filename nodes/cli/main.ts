/**
 * `kubeact`: the command line, in kubectl's habits. Each command speaks NATS request/reply
 * to the API server (and to kubelets for logs); `up`/`down` start and stop a local cluster.
 */
import { ApiError } from '../../protocol/errors.js';
import { formatApiError } from './printers.js';
import { CliError, stdio, type Output } from './session.js';
import { ManifestError } from './manifests.js';
import { applyCommand, createCommand } from './commands/apply.js';
import { getCommand } from './commands/get.js';
import { describeCommand } from './commands/describe.js';
import { deleteCommand } from './commands/delete.js';
import { logsCommand } from './commands/logs.js';
import { upCommand, downCommand, statusCommand } from './commands/cluster.js';
import { apiResourcesCommand, versionCommand } from './commands/info.js';
import { rolloutCommand } from './commands/rollout.js';
import { scaleCommand, setCommand } from './commands/workloads.js';
import { cordonCommand, drainCommand, uncordonCommand } from './commands/nodes.js';
import { exposeCommand } from './commands/expose.js';
import { portForwardCommand } from './commands/port-forward.js';
import { inspectCommand } from './commands/inspect.js';
import { eventsCommand } from './commands/events.js';
import { topCommand } from './commands/top.js';
import { autoscaleCommand } from './commands/autoscale.js';

export type Command = (args: string[], io: Output) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  up: { run: upCommand, help: 'Start a local cluster: nats-server, control plane and worker nodes' },
  down: { run: downCommand, help: 'Stop the local cluster and everything it started' },
  status: { run: statusCommand, help: 'Show where the local cluster is and which processes run' },
  apply: { run: applyCommand, help: 'Apply a configuration to a resource by file name or stdin' },
  create: { run: createCommand, help: 'Create a resource from a file or from stdin' },
  get: { run: getCommand, help: 'Display one or many resources' },
  describe: { run: describeCommand, help: 'Show details of a specific resource or group of resources' },
  delete: { run: deleteCommand, help: 'Delete resources by file names, stdin, resources and names, or by resources and label selector' },
  logs: { run: logsCommand, help: 'Print the logs for a container in a pod' },
  expose: { run: exposeCommand, help: 'Take a deployment, replica set, pod or service and expose it as a new Kubernetes service' },
  'port-forward': { run: portForwardCommand, help: 'Forward one or more local ports to a pod (pod, svc, deploy or rs)' },
  scale: { run: scaleCommand, help: 'Set a new size for a deployment or replica set' },
  autoscale: { run: autoscaleCommand, help: 'Auto-scale a deployment or replica set (creates a HorizontalPodAutoscaler)' },
  rollout: { run: rolloutCommand, help: 'Manage the rollout of a deployment: status, history, undo, pause, resume, restart' },
  set: { run: setCommand, help: 'Set specific features on objects: set image' },
  cordon: { run: cordonCommand, help: 'Mark node as unschedulable' },
  uncordon: { run: uncordonCommand, help: 'Mark node as schedulable' },
  drain: { run: drainCommand, help: 'Drain node in preparation for maintenance' },
  top: { run: topCommand, help: 'Display resource (CPU/memory) usage of pods or nodes' },
  inspect: { run: inspectCommand, help: "Show an actor's current state and transitions (pod/NAME, deploy/NAME, rs/NAME, node/NAME, hpa/NAME, scheduler); --web prints the web inspector's URL" },
  events: { run: eventsCommand, help: 'List events (they do not expire)' },
  'api-resources': { run: apiResourcesCommand, help: 'Print the supported API resources' },
  version: { run: versionCommand, help: 'Print the client and server version information' },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'kubeact controls a kubeact cluster (Kubernetes in the spirit, XState actors over NATS).',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}   ${c.help}`),
    '',
    'Usage:',
    '  kubeact [command] [flags]',
  ].join('\n');
}

export async function run(argv: string[], io: Output = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    io.out(usage());
    return name ? 0 : 1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(`error: unknown command "${name}" for "kubeact"\nRun 'kubeact --help' for usage.`);
    return 1;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    io.err(describeError(e));
    return e instanceof CliError ? e.exitCode : 1;
  }
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return formatApiError(e);
  if (e instanceof CliError || e instanceof ManifestError) return (e as Error).message.startsWith('error') ? (e as Error).message : `error: ${(e as Error).message}`;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return `error: ${(e as Error).message}`;
  }
  return `error: ${(e as Error)?.message ?? String(e)}`;
}
