/**
 * What `kubeact get svc|ep` and `describe svc` print, against kubectl's printService,
 * printEndpoints/formatEndpoints and describeService (pure: objects in, text out).
 */
import t from 'tap';
import type { KubeObject } from '../protocol/objects.js';
import { describe } from '../nodes/cli/describe.js';
import { formatEndpoints, printTable, serviceExternalIP } from '../nodes/cli/printers.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace('.000Z', 'Z');

function svc(name: string, spec: Record<string, unknown>, status: Record<string, unknown> = { loadBalancer: {} }): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', creationTimestamp: ago(125) }, spec, status };
}

const addr = (ip: string) => ({ ip });

t.test('get svc: types, cluster IPs, external IPs and ports as kubectl prints them', async (t) => {
  const services = [
    svc('web', { type: 'ClusterIP', clusterIP: '127.100.0.20', clusterIPs: ['127.100.0.20'], selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
    svc('np', { type: 'NodePort', clusterIP: '127.100.0.21', clusterIPs: ['127.100.0.21'], selector: { app: 'web', tier: 'fe' }, ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, nodePort: 30053, protocol: 'UDP' }] }),
    svc('lb', { type: 'LoadBalancer', clusterIP: '127.100.0.22', clusterIPs: ['127.100.0.22'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }),
    svc('lb-up', { type: 'LoadBalancer', clusterIP: '127.100.0.23', clusterIPs: ['127.100.0.23'], ports: [{ port: 80, nodePort: 30081, protocol: 'TCP' }] }, { loadBalancer: { ingress: [{ ip: '127.112.0.2' }] } }),
    svc('headless', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], selector: { app: 'db' } }),
    svc('ext', { type: 'ExternalName', externalName: 'db.example.com' }),
  ];
  t.equal(
    printTable('Service', services, { now: NOW }),
    [
      'NAME       TYPE           CLUSTER-IP     EXTERNAL-IP      PORT(S)                     AGE',
      'web        ClusterIP      127.100.0.20   <none>           80/TCP                      2m5s',
      'np         NodePort       127.100.0.21   <none>           80:30080/TCP,53:30053/UDP   2m5s',
      'lb         LoadBalancer   127.100.0.22   <pending>        443:31443/TCP               2m5s',
      'lb-up      LoadBalancer   127.100.0.23   127.112.0.2      80:30081/TCP                2m5s',
      'headless   ClusterIP      None           <none>           <none>                      2m5s',
      'ext        ExternalName   <none>         db.example.com   <none>                      2m5s',
      '',
    ].join('\n'),
  );
  const wide = printTable('Service', services.slice(0, 2), { now: NOW, wide: true }).split('\n');
  t.equal(wide[0], 'NAME   TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)                     AGE    SELECTOR');
  t.equal(wide[1], 'web    ClusterIP   127.100.0.20   <none>        80/TCP                      2m5s   app=web');
  t.equal(wide[2], 'np     NodePort    127.100.0.21   <none>        80:30080/TCP,53:30053/UDP   2m5s   app=web,tier=fe');
});

t.test('EXTERNAL-IP of a LoadBalancer: sorted ingress, cut at 16 characters unless wide, plus externalIPs', async (t) => {
  const lb = svc('lb', { type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '127.112.0.9' }, { ip: '127.112.0.10' }, { hostname: 'lb.example.com' }] } });
  t.equal(serviceExternalIP(lb, true), '127.112.0.10,127.112.0.9,lb.example.com');
  t.equal(serviceExternalIP(lb, false), '127.112.0.10,...');
  lb.spec.externalIPs = ['127.1.1.1'];
  t.equal(serviceExternalIP(lb, true), '127.112.0.10,127.112.0.9,lb.example.com,127.1.1.1');
  t.equal(serviceExternalIP(svc('c', { type: 'ClusterIP', externalIPs: ['127.1.1.2', '127.1.1.3'] }), false), '127.1.1.2,127.1.1.3');
});

t.test('get ep: the first 3 ready ip:port, then "+ N more..."', async (t) => {
  const ep = (subsets: unknown[] | undefined, name = 'web'): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default', creationTimestamp: ago(30) }, ...(subsets ? { subsets } : {}) }) as KubeObject;
  const four = ep([{ addresses: ['127.64.0.2', '127.64.1.2', '127.64.0.3', '127.64.1.3'].map(addr), notReadyAddresses: [addr('127.64.0.9')], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }]);
  t.equal(formatEndpoints(four), '127.64.0.2:8080,127.64.1.2:8080,127.64.0.3:8080 + 1 more...');
  t.equal(formatEndpoints(ep([{ addresses: ['127.64.0.2', '127.64.1.2'].map(addr), ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }] }])), '127.64.0.2:1,127.64.1.2:1,127.64.0.2:2 + 1 more...');
  t.equal(formatEndpoints(ep(undefined)), '<none>');
  t.equal(formatEndpoints(ep([{ notReadyAddresses: [addr('127.64.0.9')], ports: [{ port: 80 }] }])), '', 'only unready: empty, as kubectl');
  t.equal(formatEndpoints(ep([{ addresses: [addr('127.64.0.2')] }])), '127.64.0.2', 'headless without ports: IPs');
  t.equal(formatEndpoints(four, new Set(['metrics'])), '', 'a port name the subsets do not have');
  t.equal(
    printTable('Endpoints', [four, ep(undefined, 'empty')], { now: NOW }),
    [
      'NAME    ENDPOINTS                                                     AGE',
      'web     127.64.0.2:8080,127.64.1.2:8080,127.64.0.3:8080 + 1 more...   30s',
      'empty   <none>                                                        30s',
      '',
    ].join('\n'),
  );
});

t.test('describe svc, as kubectl describe service', async (t) => {
  const s = svc(
    'web',
    {
      type: 'NodePort',
      selector: { app: 'web' },
      clusterIP: '127.100.0.20',
      clusterIPs: ['127.100.0.20'],
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http', nodePort: 30080 },
        { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090, nodePort: 30090 },
      ],
    },
  );
  s.metadata!.labels = { app: 'web' };
  const endpoints = {
    kind: 'Endpoints',
    metadata: { name: 'web', namespace: 'default' },
    subsets: [{ addresses: [addr('127.64.0.2'), addr('127.64.1.2')], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }] }],
  } as KubeObject;
  const events = [
    { type: 'Warning', reason: 'FailedToUpdateEndpoint', message: 'Failed to update endpoint default/web: boom', source: { component: 'endpoint-controller' }, firstTimestamp: ago(60), lastTimestamp: ago(60), count: 1 },
  ];
  t.equal(
    describe('Service', s, events as any, NOW, { endpoints }),
    [
      'Name:                     web',
      'Namespace:                default',
      'Labels:                   app=web',
      'Annotations:              <none>',
      'Selector:                 app=web',
      'Type:                     NodePort',
      'IP Family Policy:         SingleStack',
      'IP Families:              IPv4',
      'IP:                       127.100.0.20',
      'IPs:                      127.100.0.20',
      'Port:                     http  80/TCP',
      'TargetPort:               http/TCP',
      'NodePort:                 http  30080/TCP',
      'Endpoints:                127.64.0.2:8080,127.64.1.2:8080',
      'Port:                     metrics  9090/TCP',
      'TargetPort:               9090/TCP',
      'NodePort:                 metrics  30090/TCP',
      'Endpoints:                127.64.0.2:9090,127.64.1.2:9090',
      'Session Affinity:         None',
      'External Traffic Policy:  Cluster',
      'Internal Traffic Policy:  Cluster',
      'Events:',
      '  Type     Reason                  Age   From                 Message',
      '  ----     ------                  ----  ----                 -------',
      '  Warning  FailedToUpdateEndpoint  60s   endpoint-controller  Failed to update endpoint default/web: boom',
      '',
    ].join('\n'),
  );
  const headless = describe('Service', svc('db', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], sessionAffinity: 'None' }), [], NOW, { endpoints: null });
  t.match(headless, /^IP:\s+None$/m);
  t.match(headless, /^Endpoints:\s+<none>$/m);
  t.match(headless, /^Events:\s+<none>$/m);
});
