/** HorizontalPodAutoscaler validation: every field error at once, worded as kube-apiserver words them. */
import t from 'tap';
import { validateObject } from '../protocol/validation/index.js';

const hpa = (spec: Record<string, unknown>) => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec });
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const fields = (obj: unknown) => validateObject(obj).map((c) => `${c.field}: ${c.message}`);

t.test('a valid HPA with every metric type and a behavior passes', async (t) => {
  t.same(
    fields(
      hpa({
        scaleTargetRef: ref,
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '10' } } },
          { type: 'Object', object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 'web' }, metric: { name: 'requests_per_second' }, target: { type: 'Value', value: '100' } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }] } },
      }),
    ),
    [],
  );
});

t.test('min > max, unknown metric type, missing target: all reported at once', async (t) => {
  t.same(
    fields(hpa({ scaleTargetRef: ref, minReplicas: 5, maxReplicas: 2, metrics: [{ type: 'Bogus' }, { type: 'Resource', resource: { name: 'cpu' } }] })),
    [
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
      'spec.metrics[0].type: Unsupported value: "Bogus": supported values: "Object", "Pods", "Resource"',
      'spec.metrics[1].resource.target: Required value: must specify a metric target',
    ],
  );
});

t.test('replica bounds, target ref and metric details', async (t) => {
  t.same(fields(hpa({ scaleTargetRef: { kind: 'Pod' }, minReplicas: 0 })), [
    'spec.scaleTargetRef.kind: Unsupported value: "Pod": supported values: "Deployment", "ReplicaSet"',
    'spec.scaleTargetRef.name: Required value',
    'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
    'spec.maxReplicas: Required value',
  ]);
  t.same(
    fields(
      hpa({
        scaleTargetRef: ref,
        maxReplicas: 3,
        metrics: [
          { type: 'Resource', resource: { name: 'disk', target: { type: 'Utilization', averageUtilization: 0 } } },
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Value', value: '1' } } },
          { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue' } } },
          { type: 'Object', object: { describedObject: { kind: 'Service' }, metric: { name: 'requests_per_second' }, target: { type: 'Value', value: '-1' } } },
          { type: 'Pods' },
        ],
      }),
    ),
    [
      'spec.metrics[0].resource.name: Unsupported value: "disk": supported values: "cpu", "memory"',
      'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
      'spec.metrics[1].resource.target.type: Unsupported value: "Value": supported values: "Utilization", "AverageValue"',
      'spec.metrics[2].pods.metric.name: Unsupported value: "rps": supported values: "requests_per_second", "connections_per_second"',
      'spec.metrics[2].pods.target.averageValue: Required value: must set averageValue when type is AverageValue',
      'spec.metrics[3].object.describedObject.name: Required value',
      'spec.metrics[3].object.target.value: Invalid value: "-1": must be positive',
      'spec.metrics[4].pods: Required value: must populate information for the given metric source',
    ],
  );
});

t.test('behavior: windows, policies and selectPolicy', async (t) => {
  t.same(
    fields(
      hpa({
        scaleTargetRef: ref,
        maxReplicas: 3,
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 4000, selectPolicy: 'Sometimes', policies: [{ type: 'Cores', value: 0, periodSeconds: 2000 }] },
          scaleDown: { stabilizationWindowSeconds: -1, policies: [] },
        },
      }),
    ),
    [
      'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
      'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Sometimes": supported values: "Disabled", "Max", "Min"',
      'spec.behavior.scaleUp.policies[0].type: Unsupported value: "Cores": supported values: "Percent", "Pods"',
      'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
      'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800',
      'spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: -1: must be greater than or equal to zero',
      'spec.behavior.scaleDown.policies: Required value: must specify at least one Policy',
    ],
  );
});

t.test('the wrong apiVersion and a missing spec are rejected; garbage never throws', async (t) => {
  t.match(fields({ ...hpa({}), apiVersion: 'autoscaling/v1' }), ['apiVersion: Unsupported value: "autoscaling/v1": supported values: "autoscaling/v2"']);
  t.match(fields({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' } }), ['spec: Required value']);
  for (const spec of [null, 5, 'x', [], { metrics: 'x' }, { metrics: [null, 3] }, { behavior: [] }]) t.doesNotThrow(() => validateObject(hpa(spec as never)));
});
