/**
 * `kubeact autoscale deployment NAME --max=N [--min=N] [--cpu-percent=N] [--name=HPA]`: creates an
 * autoscaling/v2 HorizontalPodAutoscaler for a Deployment or ReplicaSet, checking flags and the
 * target as kubectl does, and prints `horizontalpodautoscaler.autoscaling/NAME autoscaled`.
 */
import { parseArgs } from 'node:util';
import { KINDS } from '../../../protocol/kinds.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { objectRef, parseOneTarget } from '../resources.js';
import { CliError, openSession, type Output } from '../session.js';

/** kubectl's flags default to -1: "not given". */
function intFlag(text: string | undefined, flag: string): number {
  if (text === undefined) return -1;
  const v = Number(text);
  if (!Number.isInteger(v)) throw new CliError(`invalid argument "${text}" for "--${flag}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  return v;
}

/** The HPA kubectl autoscale would create (kubectl: autoscaling/v1 with targetCPUUtilizationPercentage; here its v2 form). */
export function autoscaler(target: KubeObject, opts: { name?: string; min: number; max: number; cpuPercent: number }): KubeObject {
  const meta = target.metadata!;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: opts.name || meta.name, namespace: meta.namespace },
    spec: {
      scaleTargetRef: { apiVersion: target.apiVersion, kind: target.kind, name: meta.name },
      ...(opts.min >= 0 ? { minReplicas: opts.min } : {}),
      maxReplicas: opts.max,
      // No --cpu-percent: the API server's default policy (80 % CPU) applies.
      ...(opts.cpuPercent >= 0 ? { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: opts.cpuPercent } } }] } : {}),
    },
  } as KubeObject;
}

export async function autoscaleCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      min: { type: 'string' },
      max: { type: 'string' },
      'cpu-percent': { type: 'string' },
      name: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      server: { type: 'string', short: 's' },
    },
    allowPositionals: true,
  });
  if (values.max === undefined) throw new CliError('required flag(s) "max" not set');
  const { kind, name } = parseOneTarget(positionals);
  const min = intFlag(values.min, 'min');
  const max = intFlag(values.max, 'max');
  const cpuPercent = intFlag(values['cpu-percent'], 'cpu-percent');
  if (max < 1) throw new CliError(`--max=MAXPODS is required and must be at least 1, max: ${max}`);
  if (max < min) throw new CliError(`--max=MAXPODS must be larger or equal to --min=MINPODS, max: ${max}, min: ${min}`);
  if (kind !== 'Deployment' && kind !== 'ReplicaSet') throw new CliError(`cannot autoscale a ${kind}: only deployments and replicasets have a scale subresource here`);
  const session = await openSession(values.server);
  try {
    // The target must exist (kubectl reads it first): NotFound is reported as the server says it.
    const target = await session.client.get(kind, name, values.namespace ?? 'default');
    const hpa = autoscaler({ ...target, apiVersion: target.apiVersion ?? KINDS[kind].apiVersion, kind }, { name: values.name, min, max, cpuPercent });
    await session.client.create(hpa);
    io.out(`${objectRef('HorizontalPodAutoscaler', hpa.metadata!.name!)} autoscaled`);
  } finally {
    await session.close();
  }
  return 0;
}
