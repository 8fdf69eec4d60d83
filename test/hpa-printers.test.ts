/** `kubeact get hpa` in kubectl 1.32's layout. */
import t from 'tap';
import type { KubeObject } from '../protocol/objects.js';
import { printTable } from '../nodes/cli/printers.js';

const now = Date.parse('2026-01-01T00:10:00Z');
const hpa = (status?: Record<string, unknown>, metrics?: unknown[]): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 10,
    metrics: metrics ?? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
  },
  ...(status ? { status } : {}),
});

t.test('TARGETS shows <unknown> before the first measurement, then current/target', async (t) => {
  t.equal(
    printTable('HorizontalPodAutoscaler', [hpa()], { now }),
    ['NAME   REFERENCE        TARGETS              MINPODS   MAXPODS   REPLICAS   AGE', 'web    Deployment/web   cpu: <unknown>/50%   1         10        0          10m', ''].join('\n'),
  );
  const measured = hpa({ currentReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 73, averageValue: '73m' } } }] });
  t.match(printTable('HorizontalPodAutoscaler', [measured], { now }), /web\s+Deployment\/web\s+cpu: 73%\/50%\s+1\s+10\s+3\s+10m/);
});

t.test('Pods and Object metrics, and more than three metrics', async (t) => {
  const metrics = [
    { type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '10' } } },
    { type: 'Object', object: { describedObject: { kind: 'Service', name: 'web' }, metric: { name: 'requests_per_second' }, target: { type: 'Value', value: '100' } } },
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
  ];
  const st = { currentReplicas: 2, currentMetrics: [{ type: 'Pods', pods: { current: { averageValue: '25' } } }, { type: 'Object', object: { current: { value: '40' } } }] };
  t.match(printTable('HorizontalPodAutoscaler', [hpa(st, metrics)], { now }), /25\/10, 40\/100, memory: <unknown>\/100Mi \+ 1 more\.\.\./);
});
