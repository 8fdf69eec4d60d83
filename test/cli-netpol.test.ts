/**
 * What `kubeact get netpol` and `describe netpol` print, against kubectl's printNetworkPolicy
 * (NAME, POD-SELECTOR, AGE) and describeNetworkPolicy (pure: objects in, text out).
 */
import t from 'tap';
import type { KubeObject } from '../protocol/objects.js';
import { describe } from '../nodes/cli/describe.js';
import { formatGoTime } from '../nodes/cli/describe-netpol.js';
import { formatLabelSelector, printTable } from '../nodes/cli/printers.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const CREATED = '2026-03-01T11:57:55Z';

function np(name: string, spec: Record<string, unknown>, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'default', creationTimestamp: CREATED, ...(labels ? { labels } : {}) }, spec };
}

t.test('formatLabelSelector as metav1.FormatLabelSelector', async (t) => {
  t.equal(formatLabelSelector({}), '<none>');
  t.equal(formatLabelSelector(undefined), '<none>');
  t.equal(formatLabelSelector({ matchLabels: { tier: 'db', app: 'pg' } }), 'app=pg,tier=db');
  t.equal(
    formatLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'canary', operator: 'DoesNotExist' }, { key: 'zone', operator: 'NotIn', values: ['b'] }, { key: 'beta', operator: 'Exists' }] }),
    'app=web,beta,!canary,env in (dev,prod),zone notin (b)',
  );
});

t.test('get netpol', async (t) => {
  const out = printTable('NetworkPolicy', [np('default-deny', { podSelector: {}, policyTypes: ['Ingress'] }), np('db-access', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] })], { now: NOW });
  t.equal(out, ['NAME           POD-SELECTOR   AGE', 'default-deny   <none>         2m5s', 'db-access      app=db         2m5s', ''].join('\n'));
});

t.test('describe netpol: ingress and egress rules, every peer kind, ports and ranges', async (t) => {
  const policy = np(
    'test-network-policy',
    {
      podSelector: { matchLabels: { role: 'db' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }, { namespaceSelector: { matchLabels: { project: 'myproject' } } }, { podSelector: { matchLabels: { role: 'frontend' } } }],
          ports: [{ protocol: 'TCP', port: 6379 }],
        },
        { from: [{ namespaceSelector: { matchLabels: { team: 'a' } }, podSelector: { matchLabels: { app: 'x' } } }], ports: [{ protocol: 'TCP', port: 'http' }, { protocol: 'UDP', port: 8000, endPort: 8100 }] },
      ],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }, {}],
    },
    { team: 'db' },
  );
  t.equal(
    describe('NetworkPolicy', policy, [], NOW),
    [
      'Name:         test-network-policy',
      'Namespace:    default',
      `Created on:   ${formatGoTime(CREATED)}`,
      'Labels:       team=db',
      'Annotations:  <none>',
      'Spec:',
      '  PodSelector:     role=db',
      '  Allowing ingress traffic:',
      '    To Port: 6379/TCP',
      '    From:',
      '      IPBlock:',
      '        CIDR: 172.17.0.0/16',
      '        Except: 172.17.1.0/24',
      '    From:',
      '      NamespaceSelector: project=myproject',
      '    From:',
      '      PodSelector: role=frontend',
      '    ----------',
      '    To Port: http/TCP',
      '    To Port Range: 8000-8100/UDP',
      '    From:',
      '      NamespaceSelector: team=a',
      '      PodSelector: app=x',
      '  Allowing egress traffic:',
      '    To Port: 5978/TCP',
      '    To:',
      '      IPBlock:',
      '        CIDR: 10.0.0.0/24',
      '        Except: ',
      '    ----------',
      '    To Port: <any> (traffic allowed to all ports)',
      '    To: <any> (traffic not restricted by destination)',
      '  Policy Types: Ingress, Egress',
      '',
    ].join('\n'),
  );
});

t.test('describe netpol: default deny, and a policy not affecting egress', async (t) => {
  const text = describe('NetworkPolicy', np('default-deny', { podSelector: {}, policyTypes: ['Ingress'] }), [], NOW);
  t.match(
    text,
    [
      'Spec:',
      '  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)',
      '  Allowing ingress traffic:',
      '    <none> (Selected pods are isolated for ingress connectivity)',
      '  Not affecting egress traffic',
      '  Policy Types: Ingress',
      '',
    ].join('\n'),
  );
  const egressOnly = describe('NetworkPolicy', np('no-out', { podSelector: { matchLabels: { app: 'x' } }, policyTypes: ['Egress'] }), [], NOW);
  t.match(egressOnly, '  Not affecting ingress traffic\n  Allowing egress traffic:\n    <none> (Selected pods are isolated for egress connectivity)\n  Policy Types: Egress\n');
  const anyFrom = describe('NetworkPolicy', np('any', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }] }), [], NOW);
  t.match(anyFrom, '    To Port: 80/TCP\n    From: <any> (traffic not restricted by source)\n');
});

t.test('Created on: Go time.Time.String() in local time', async (t) => {
  t.match(formatGoTime('2024-07-28T10:03:17Z'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
  if (new Date().getTimezoneOffset() === 0) t.equal(formatGoTime('2024-07-28T10:03:17Z'), '2024-07-28 10:03:17 +0000 UTC');
});
