/** What an HPA sync sees (nodes/controllers/hpa-observation.ts) and the status it writes (hpa-status.ts): pure functions. */
import t from 'tap';
import { decide } from '../actors/hpa/index.js';
import { printTable } from '../nodes/cli/printers.js';
import { buildObservation, scaleOf } from '../nodes/controllers/hpa-observation.js';
import { failedRescale, hpaStatus, withConditions } from '../nodes/controllers/hpa-status.js';
import type { PodMetrics } from '../protocol/metrics.js';
import type { KubeObject } from '../protocol/objects.js';

const deployment = (replicas: number, selector: unknown = { matchLabels: { app: 'web' } }): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas, selector } });

const pod = (name: string, opts: { ready?: boolean; labels?: Record<string, string>; ns?: string; cpu?: string | null; deleting?: boolean; phase?: string } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: opts.ns ?? 'default', labels: opts.labels ?? { app: 'web' }, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { containers: [{ name: 'main', image: 'x', resources: opts.cpu === null ? {} : { requests: { cpu: opts.cpu ?? '100m', memory: '64Mi' } } }] },
  status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});

const usage = (name: string, cpu: string, memory = '1024Ki'): PodMetrics => ({
  apiVersion: 'metrics.k8s.io/v1beta1',
  kind: 'PodMetrics',
  metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  timestamp: '2026-01-01T00:00:00Z',
  window: '1s',
  containers: [{ name: 'main', usage: { cpu, memory } }],
});

t.test('the target scale, its pods by selector, their requests, readiness, usage and traffic', async (t) => {
  const obs = buildObservation({
    now: 1000,
    namespace: 'default',
    target: deployment(3),
    targetRef: { kind: 'Deployment', name: 'web' },
    pods: [pod('web-b', { ready: false }), pod('web-a'), pod('other', { labels: { app: 'db' } }), pod('web-x', { ns: 'elsewhere' }), pod('web-gone', { deleting: true }), pod('web-failed', { phase: 'Failed' })],
    podMetrics: [usage('web-a', '250000000n', '2048Ki')],
    traffic: { pods: [{ namespace: 'default', name: 'web-a', requestsPerSecond: 12, connectionsPerSecond: 3 }, { namespace: 'elsewhere', name: 'web-b', requestsPerSecond: 99, connectionsPerSecond: 0 }], services: [{ namespace: 'default', name: 'web', requestsPerSecond: 12, connectionsPerSecond: 3 }] },
  });
  t.equal(obs.currentReplicas, 3);
  t.same(obs.pods.map((p) => p.name), ['web-a', 'web-b', 'web-failed', 'web-gone'], 'the selector, in the HPA namespace only');
  const [a, b, failed, gone] = obs.pods;
  t.same(a, { name: 'web-a', ready: true, ignored: false, requests: { cpu: 0.1, memory: 64 * 2 ** 20 }, usage: { cpu: 0.25, memory: 2 * 2 ** 20 }, traffic: { requests_per_second: 12, connections_per_second: 3 } });
  t.equal(b.ready, false);
  t.equal(b.usage, undefined, 'no sample: a missing metric');
  t.equal(b.traffic, undefined, 'not an endpoint anywhere: missing, not 0');
  t.ok(failed.ignored && gone.ignored, 'Failed and deleting pods are ignored');
  t.same(obs.services, { web: { requests_per_second: 12, connections_per_second: 3 } });
});

t.test('a container without a request leaves the pod without one (Kubernetes: missing request)', async (t) => {
  const obs = buildObservation({ now: 0, namespace: 'default', target: deployment(1), targetRef: { kind: 'Deployment', name: 'web' }, pods: [pod('web-a', { cpu: null })], podMetrics: [usage('web-a', '1')] });
  t.equal(obs.pods[0].requests.cpu, undefined);
  const d = decide({ maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] }, obs, { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] }, { tolerance: 0.1, downscaleStabilizationSeconds: 300 });
  t.match(d.events, [{ type: 'Warning', reason: 'FailedGetResourceMetric', message: /missing request/ }]);
  t.equal(d.rescale, false);
});

t.test('a failing metric beside a working one: positions kept, so TARGETS pairs each current with its target', async (t) => {
  const spec = {
    maxReplicas: 5,
    metrics: [
      { type: 'Resource' as const, resource: { name: 'cpu' as const, target: { type: 'Utilization' as const, averageUtilization: 50 } } },
      { type: 'Pods' as const, pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue' as const, averageValue: '10' } } },
    ],
  };
  const obs = buildObservation({
    now: 0,
    namespace: 'default',
    target: deployment(1),
    targetRef: { kind: 'Deployment', name: 'web' },
    pods: [pod('web-a', { cpu: null })],
    traffic: { pods: [{ namespace: 'default', name: 'web-a', requestsPerSecond: 25, connectionsPerSecond: 1 }], services: [] },
  });
  const d = decide(spec, obs, { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] }, { tolerance: 0.1, downscaleStabilizationSeconds: 300 });
  t.equal(d.desiredReplicas, 3, 'the working metric decides: ceil(25 / 10)');
  t.same(d.currentMetrics[0], { type: '' });
  const table = printTable('HorizontalPodAutoscaler', [{ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { ...spec, scaleTargetRef: { kind: 'Deployment', name: 'web' } }, status: { currentMetrics: d.currentMetrics } }], { now: 0 });
  t.match(table, /\sDeployment\/web\s+cpu: <unknown>\/50%, 25\/10\s/, 'get hpa TARGETS');
});

t.test('a missing, unscalable or selector-less target is a target error', async (t) => {
  const missing = buildObservation({ now: 0, namespace: 'default', targetRef: { kind: 'Deployment', name: 'nope' }, pods: [] });
  t.equal(missing.currentReplicas, undefined);
  t.equal(missing.targetError, 'deployments.apps "nope" not found');
  const pods = buildObservation({ now: 0, namespace: 'default', target: deployment(1), targetRef: { kind: 'Pod', name: 'web' }, pods: [] });
  t.match(pods.targetError, /pods has no scale subresource/);
  t.equal(scaleOf(deployment(2, {})), undefined, 'an empty selector would match every pod');
  t.match(buildObservation({ now: 0, namespace: 'default', target: deployment(2, {}), targetRef: { kind: 'Deployment', name: 'web' }, pods: [] }).targetError, /has no selector/);
  t.same(scaleOf({ ...deployment(0), spec: { selector: { matchLabels: { a: 'b' } } } })?.replicas, 1, 'replicas defaults to 1');
});

t.test('status: numbers from the decision, conditions keep their transition time while unchanged', async (t) => {
  const first = hpaStatus(undefined, 2, { currentReplicas: 1, desiredReplicas: 3, rescale: true, currentMetrics: [{ type: 'Resource' }], conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'm' }, { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'm' }], events: [], history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] } }, Date.parse('2026-01-01T00:00:00Z'), true);
  t.same(first, {
    observedGeneration: 2,
    lastScaleTime: '2026-01-01T00:00:00Z',
    currentReplicas: 1,
    desiredReplicas: 3,
    currentMetrics: [{ type: 'Resource' }],
    conditions: [
      { type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'SucceededRescale', message: 'm' },
      { type: 'ScalingActive', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ValidMetricFound', message: 'm' },
    ],
  });
  const later = withConditions(first.conditions, [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'n' }, { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'x' }], Date.parse('2026-01-01T00:01:00Z'));
  t.same(later.map((c) => [c.type, c.reason, c.lastTransitionTime]), [
    ['AbleToScale', 'ReadyForNewScale', '2026-01-01T00:00:00Z'],
    ['ScalingActive', 'FailedGetResourceMetric', '2026-01-01T00:01:00Z'],
  ]);
  const failed = failedRescale({ currentReplicas: 2, desiredReplicas: 4, rescale: true, currentMetrics: [], conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: '' }], events: [], history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] } }, 'conflict');
  t.equal(failed.desiredReplicas, 2);
  t.equal(failed.rescale, false);
  t.same(failed.conditions, [{ type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: 'the HPA controller was unable to update the target scale: conflict' }]);
  t.equal(hpaStatus(first, 2, failed, 0, false).lastScaleTime, '2026-01-01T00:00:00Z', 'lastScaleTime kept without a rescale');
  t.equal(hpaStatus(first, 2, failed, 0, false).currentMetrics, null, 'nothing measured: null (<unknown>)');
});
