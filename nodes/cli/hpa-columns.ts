/** `kubectl get hpa` columns (kubectl 1.32's printHorizontalPodAutoscaler / formatHPAMetrics). */
import type { KubeObject } from '../../protocol/objects.js';
import { formatAge } from './age.js';
import type { Columns } from './printers.js';

type Loose = Record<string, any>;

/** TARGETS: `cpu: 73%/50%` per metric, `<unknown>` until the controller has measured it; at most 3 shown. */
export function hpaTargets(spec: Loose, status: Loose | undefined): string {
  const metrics: Loose[] = Array.isArray(spec?.metrics) ? spec.metrics : [];
  const current: Loose[] = Array.isArray(status?.currentMetrics) ? status.currentMetrics : [];
  if (!metrics.length) return '<none>';
  const parts = metrics.map((m, i) => {
    const cur = current[i];
    if (m.type === 'Resource') {
      const t = m.resource?.target ?? {};
      if (t.type === 'Utilization') {
        const c = cur?.resource?.current?.averageUtilization;
        return `${m.resource?.name}: ${c === undefined ? '<unknown>' : `${c}%`}/${t.averageUtilization}%`;
      }
      return `${m.resource?.name}: ${cur?.resource?.current?.averageValue ?? '<unknown>'}/${t.averageValue}`;
    }
    if (m.type === 'Pods') return `${cur?.pods?.current?.averageValue ?? '<unknown>'}/${m.pods?.target?.averageValue}`;
    if (m.type === 'Object') {
      const t = m.object?.target ?? {};
      if (t.type === 'AverageValue') return `${cur?.object?.current?.averageValue ?? '<unknown>'}/${t.averageValue} (avg)`;
      return `${cur?.object?.current?.value ?? '<unknown>'}/${t.value}`;
    }
    return '<unknown>';
  });
  return parts.length > 3 ? `${parts.slice(0, 3).join(', ')} + ${parts.length - 3} more...` : parts.join(', ');
}

export const HPA_COLUMNS: Record<string, Columns> = {
  HorizontalPodAutoscaler: {
    headers: ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
    wideHeaders: [],
    row(obj: KubeObject, now: number) {
      const spec = (obj.spec ?? {}) as Loose;
      const ref = spec.scaleTargetRef ?? {};
      return [
        obj.metadata?.name ?? '',
        `${ref.kind ?? ''}/${ref.name ?? ''}`,
        hpaTargets(spec, obj.status as Loose | undefined),
        spec.minReplicas === undefined ? '<unset>' : String(spec.minReplicas),
        String(spec.maxReplicas ?? ''),
        String((obj.status as Loose | undefined)?.currentReplicas ?? 0),
        formatAge(obj.metadata?.creationTimestamp, now),
      ];
    },
  },
};
