/** `kubeact describe hpa` in kubectl 1.32's layout, and `kubeact autoscale`'s object and flag errors (no cluster needed). */
import t from 'tap';
import { autoscaler } from '../nodes/cli/commands/autoscale.js';
import { describe, formatRFC1123Z } from '../nodes/cli/describe.js';
import { run } from '../nodes/cli/main.js';
import type { Event, KubeObject } from '../protocol/objects.js';

const now = Date.parse('2026-01-01T00:41:00Z');
const created = '2026-01-01T00:00:00Z';

const hpa = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'backend-user', namespace: 'default', creationTimestamp: created, uid: 'u1' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'backend-user' }, minReplicas: 2, maxReplicas: 5, ...spec },
  ...(status ? { status } : {}),
});

const cpu = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } };

t.test('describe hpa: the layout of kubectl 1.32 (metrics, pods, conditions, events)', async (t) => {
  const obj = hpa(
    { metrics: [cpu] },
    {
      currentReplicas: 2,
      desiredReplicas: 2,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 0, averageValue: '0' } } }],
      conditions: [
        { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
        { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' },
        { type: 'ScalingLimited', status: 'True', reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' },
      ],
    },
  );
  const events = [{ type: 'Normal', reason: 'SuccessfulRescale', message: 'New size: 2; reason: All metrics below target', count: 1, firstTimestamp: created, lastTimestamp: created, source: { component: 'horizontal-pod-autoscaler' }, involvedObject: {} }] as unknown as Event[];
  const pad = (s: string) => s.padEnd(55);
  t.equal(
    describe('HorizontalPodAutoscaler', obj, events, now),
    [
      `${pad('Name:')}backend-user`,
      `${pad('Namespace:')}default`,
      `${pad('Labels:')}<none>`,
      `${pad('Annotations:')}<none>`,
      `${pad('CreationTimestamp:')}${formatRFC1123Z(created)}`,
      `${pad('Reference:')}Deployment/backend-user`,
      `${pad('Metrics:')}( current / target )`,
      `${pad('  resource cpu on pods  (as a percentage of request):')}0% (0) / 70%`,
      `${pad('Min replicas:')}2`,
      `${pad('Max replicas:')}5`,
      `${pad('Deployment pods:')}2 current / 2 desired`,
      'Conditions:',
      '  Type            Status  Reason            Message',
      '  ----            ------  ------            -------',
      '  AbleToScale     True    ReadyForNewScale  recommended size matches current size',
      '  ScalingActive   True    ValidMetricFound  the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
      '  ScalingLimited  True    TooFewReplicas    the desired replica count is less than the minimum replica count',
      'Events:',
      '  Type    Reason             Age   From                       Message',
      '  ----    ------             ----  ----                       -------',
      '  Normal  SuccessfulRescale  41m   horizontal-pod-autoscaler  New size: 2; reason: All metrics below target',
      '',
    ].join('\n'),
  );
});

t.test('describe hpa: unmeasured metrics, Pods/Object/AverageValue lines, Behavior', async (t) => {
  const obj = hpa({
    minReplicas: undefined,
    metrics: [
      cpu,
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
      { type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '5' } } },
      { type: 'Object', object: { describedObject: { kind: 'Service', name: 'web' }, metric: { name: 'requests_per_second' }, target: { type: 'Value', value: '100' } } },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 5, policies: [{ type: 'Pods', value: 1, periodSeconds: 10 }] } },
  }, { currentReplicas: 1, desiredReplicas: 3, currentMetrics: [null, null, { type: 'Pods', pods: { metric: { name: 'requests_per_second' }, current: { averageValue: '7500m' } } }] });
  const out = describe('HorizontalPodAutoscaler', obj, [], now);
  t.match(out, /\n  resource cpu on pods  \(as a percentage of request\): +<unknown> \/ 70%\n/);
  t.match(out, /\n  resource memory on pods: +<unknown> \/ 100Mi\n/);
  t.match(out, /\n  "requests_per_second" on pods: +7500m \/ 5\n/);
  t.match(out, /\n  "requests_per_second" on Service\/web \(target value\): +<unknown> \/ 100\n/);
  t.match(out, /\nMin replicas: +<unset>\n/);
  t.match(out, /\nBehavior:\n  Scale Down:\n    Stabilization Window: 5 seconds\n    Select Policy: Max\n    Policies:\n      - Type: Pods  Value: 1  Period: 10 seconds\n/);
  t.match(out, /\nDeployment pods: +1 current \/ 3 desired\n/);
  t.notMatch(out, /Conditions:/, 'no conditions yet: no table');
  t.match(out, /\nEvents: +<none>\n$/);
});

t.test('autoscale builds the autoscaling/v2 object kubectl autoscale would', async (t) => {
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } } as KubeObject;
  t.same(autoscaler(deploy, { min: 1, max: 10, cpuPercent: 50 }), {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
  });
  const bare = autoscaler(deploy, { name: 'web-hpa', min: -1, max: 3, cpuPercent: -1 });
  t.equal(bare.metadata?.name, 'web-hpa', '--name');
  t.same(bare.spec, { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3 }, 'no --min, no --cpu-percent: the server defaults them');
});

t.test('autoscale flag errors, as kubectl words them', async (t) => {
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join(''), err: err.join('') };
  };
  const noMax = await cli(['autoscale', 'deployment', 'web', '--cpu-percent=50']);
  t.equal(noMax.code, 1);
  t.equal(noMax.err, 'error: required flag(s) "max" not set');
  t.equal((await cli(['autoscale', 'deploy/web', '--max=3', '--min=5'])).err, 'error: --max=MAXPODS must be larger or equal to --min=MINPODS, max: 3, min: 5');
  t.equal((await cli(['autoscale', 'deploy/web', '--max=0'])).err, 'error: --max=MAXPODS is required and must be at least 1, max: 0');
  t.match((await cli(['autoscale', 'deploy/web', '--max=x'])).err, /invalid argument "x" for "--max" flag/);
  t.match((await cli(['autoscale', 'pod/web', '--max=3'])).err, /cannot autoscale a Pod/);
});
