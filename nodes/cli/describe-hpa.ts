/**
 * The body of `kubectl describe hpa` after the labels and annotations (kubectl 1.32's
 * describeHorizontalPodAutoscalerV2): Reference, `Metrics: ( current / target )` lines, min/max,
 * Behavior, `<Kind> pods: N current / N desired`, the Conditions table.
 */
import type { LevelWriter } from './describe-netpol.js';

type Loose = Record<string, any>;

const str = (v: unknown, unknown = '<unknown>') => (v === undefined || v === null || v === '' ? unknown : String(v));

function metricLines(w: LevelWriter, spec: Loose, status: Loose | undefined): void {
  const current: Loose[] = Array.isArray(status?.currentMetrics) ? status.currentMetrics : [];
  (spec.metrics ?? []).forEach((m: Loose, i: number) => {
    const cur = current[i];
    if (m.type === 'Pods') {
      w.write(1, `"${m.pods?.metric?.name}" on pods:\t${str(cur?.pods?.current?.averageValue)} / ${str(m.pods?.target?.averageValue, '')}\n`);
    } else if (m.type === 'Object') {
      const o = m.object ?? {};
      w.write(1, `"${o.metric?.name}" on ${o.describedObject?.kind}/${o.describedObject?.name} `);
      if (o.target?.type === 'AverageValue') w.write(0, `(target average value):\t${str(cur?.object?.current?.averageValue)} / ${str(o.target?.averageValue, '')}\n`);
      else w.write(0, `(target value):\t${str(cur?.object?.current?.value)} / ${str(o.target?.value, '')}\n`);
    } else if (m.type === 'Resource') {
      const r = m.resource ?? {};
      w.write(1, `resource ${r.name} on pods`);
      if (r.target?.averageValue !== undefined) {
        w.write(0, `:\t${str(cur?.resource?.current?.averageValue)} / ${r.target.averageValue}\n`);
      } else {
        const c = cur?.resource?.current;
        const shown = c?.averageUtilization !== undefined ? `${c.averageUtilization}% (${str(c.averageValue, '0')})` : '<unknown>';
        const target = r.target?.averageUtilization !== undefined ? `${r.target.averageUtilization}%` : '<auto>';
        w.write(1, `(as a percentage of request):\t${shown} / ${target}\n`);
      }
    } else {
      w.write(1, `<unknown metric type ${JSON.stringify(m.type)}>\n`);
    }
  });
}

function directionBehavior(w: LevelWriter, direction: string, rules: Loose | undefined | null): void {
  if (!rules) return;
  w.write(1, `${direction}:\n`);
  if (rules.stabilizationWindowSeconds !== undefined && rules.stabilizationWindowSeconds !== null) w.write(2, `Stabilization Window: ${rules.stabilizationWindowSeconds} seconds\n`);
  if (Array.isArray(rules.policies) && rules.policies.length) {
    w.write(2, `Select Policy: ${rules.selectPolicy ?? 'Max'}\n`);
    w.write(2, 'Policies:\n');
    for (const p of rules.policies) w.write(3, `- Type: ${p.type}\tValue: ${p.value}\tPeriod: ${p.periodSeconds} seconds\n`);
  }
}

export function describeHpaBody(w: LevelWriter, hpa: Loose, creationTimestamp: string): void {
  const spec: Loose = hpa.spec ?? {};
  const status: Loose | undefined = hpa.status;
  const ref: Loose = spec.scaleTargetRef ?? {};
  w.write(0, `CreationTimestamp:\t${creationTimestamp}\n`);
  w.write(0, `Reference:\t${ref.kind ?? ''}/${ref.name ?? ''}\n`);
  w.write(0, 'Metrics:\t( current / target )\n');
  metricLines(w, spec, status);
  w.write(0, `Min replicas:\t${spec.minReplicas ?? '<unset>'}\n`);
  w.write(0, `Max replicas:\t${spec.maxReplicas ?? 0}\n`);
  if (spec.behavior) {
    w.write(0, 'Behavior:\n');
    directionBehavior(w, 'Scale Up', spec.behavior.scaleUp);
    directionBehavior(w, 'Scale Down', spec.behavior.scaleDown);
  }
  w.write(0, `${ref.kind ?? ''} pods:\t`);
  w.write(0, `${status?.currentReplicas ?? 0} current / ${status?.desiredReplicas ?? 0} desired\n`);
  const conditions: Loose[] = Array.isArray(status?.conditions) ? status.conditions : [];
  if (conditions.length) {
    w.write(0, 'Conditions:\n');
    w.write(1, 'Type\tStatus\tReason\tMessage\n');
    w.write(1, '----\t------\t------\t-------\n');
    for (const c of conditions) w.write(1, `${c.type}\t${c.status}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
  }
}
