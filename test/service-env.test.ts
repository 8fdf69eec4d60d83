/**
 * Service discovery environment variables (nodes/worker/service-env.ts), checked against what
 * the kubelet's envvars.FromServices produces, and how they enter a container's environment.
 */
import t from 'tap';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { buildContainerConfig } from '../nodes/worker/container-config.js';
import { envFromServices, envVariableName, serviceEnvVars } from '../nodes/worker/service-env.js';

function svc(name: string, clusterIP: string, ports: Array<{ name?: string; port: number; protocol?: string }>, namespace = 'default', type = 'ClusterIP'): Service {
  return { metadata: { name, namespace }, spec: { type, clusterIP, ports } } as Service;
}

t.test('names: upper case, dashes to underscores', async (t) => {
  t.equal(envVariableName('my-web-svc'), 'MY_WEB_SVC');
  t.equal(envVariableName('redis'), 'REDIS');
});

t.test('FromServices: host, ports, named ports and the Docker-link variables', async (t) => {
  const env = envFromServices([
    svc('web-api', '127.100.0.20', [
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'dns-udp', port: 53, protocol: 'UDP' },
    ]),
  ]);
  t.same(env, [
    { name: 'WEB_API_SERVICE_HOST', value: '127.100.0.20' },
    { name: 'WEB_API_SERVICE_PORT', value: '80' },
    { name: 'WEB_API_SERVICE_PORT_HTTP', value: '80' },
    { name: 'WEB_API_SERVICE_PORT_DNS_UDP', value: '53' },
    { name: 'WEB_API_PORT', value: 'tcp://127.100.0.20:80' },
    { name: 'WEB_API_PORT_80_TCP', value: 'tcp://127.100.0.20:80' },
    { name: 'WEB_API_PORT_80_TCP_PROTO', value: 'tcp' },
    { name: 'WEB_API_PORT_80_TCP_PORT', value: '80' },
    { name: 'WEB_API_PORT_80_TCP_ADDR', value: '127.100.0.20' },
    { name: 'WEB_API_PORT_53_UDP', value: 'udp://127.100.0.20:53' },
    { name: 'WEB_API_PORT_53_UDP_PROTO', value: 'udp' },
    { name: 'WEB_API_PORT_53_UDP_PORT', value: '53' },
    { name: 'WEB_API_PORT_53_UDP_ADDR', value: '127.100.0.20' },
  ]);
});

t.test('an unnamed single port has no _SERVICE_PORT_<NAME>; the protocol defaults to TCP', async (t) => {
  const env = envFromServices([svc('redis', '127.100.0.30', [{ port: 6379 }])]);
  t.same(
    env.map((e) => e.name),
    ['REDIS_SERVICE_HOST', 'REDIS_SERVICE_PORT', 'REDIS_PORT', 'REDIS_PORT_6379_TCP', 'REDIS_PORT_6379_TCP_PROTO', 'REDIS_PORT_6379_TCP_PORT', 'REDIS_PORT_6379_TCP_ADDR'],
  );
  t.equal(env.find((e) => e.name === 'REDIS_PORT')?.value, 'tcp://127.100.0.30:6379');
});

t.test('which services: the pod\'s namespace, never headless or ExternalName; kubernetes from default always', async (t) => {
  const services = [
    svc('web', '127.100.0.20', [{ port: 80 }]),
    svc('other-ns', '127.100.0.21', [{ port: 80 }], 'prod'),
    svc('headless', 'None', [{ port: 80 }]),
    { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com' } } as Service,
  ];
  const env = serviceEnvVars(services, 'default', true);
  t.equal(env.WEB_SERVICE_HOST, '127.100.0.20');
  t.equal(env.WEB_SERVICE_PORT, '80');
  t.notOk('OTHER_NS_SERVICE_HOST' in env);
  t.notOk('HEADLESS_SERVICE_HOST' in env);
  t.notOk('EXT_SERVICE_HOST' in env);
  t.notOk('KUBERNETES_SERVICE_HOST' in env, 'no kubernetes service, no variables for it (kubeact does not invent one)');

  const withMaster = [...services, svc('kubernetes', '127.100.0.1', [{ name: 'https', port: 443 }])];
  const prod = serviceEnvVars(withMaster, 'prod', true);
  t.equal(prod.OTHER_NS_SERVICE_HOST, '127.100.0.21');
  t.equal(prod.KUBERNETES_SERVICE_HOST, '127.100.0.1', 'the kubernetes service reaches every namespace');
  t.equal(prod.KUBERNETES_SERVICE_PORT, '443');
  t.notOk('WEB_SERVICE_HOST' in prod);

  const noLinks = serviceEnvVars(withMaster, 'default', false);
  t.same(Object.keys(noLinks).filter((k) => k.endsWith('_SERVICE_HOST')), ['KUBERNETES_SERVICE_HOST'], 'enableServiceLinks: false keeps only the kubernetes service');
});

t.test('container env: service variables first, the container\'s env overrides them and may refer to them', async (t) => {
  const pod = {
    metadata: { name: 'p', namespace: 'default', uid: 'u' },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'x',
          command: ['run'],
          env: [
            { name: 'WEB_SERVICE_PORT', value: '9999' },
            { name: 'WEB_URL', value: 'http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/' },
          ],
        },
      ],
    },
  } as Pod;
  const serviceEnv = serviceEnvVars([svc('web', '127.100.0.20', [{ port: 80 }])], 'default', true);
  const config = buildContainerConfig(pod, 'c', 0, { nodeName: 'n', podIP: '127.64.0.2', hostIP: '127.0.1.1' }, serviceEnv);
  t.equal(config.env.WEB_SERVICE_HOST, '127.100.0.20');
  t.equal(config.env.WEB_SERVICE_PORT, '9999');
  t.equal(config.env.WEB_URL, 'http://127.100.0.20:9999/');
  t.equal(config.env.WEB_PORT, 'tcp://127.100.0.20:80');
  t.equal(config.env.POD_IP, '127.64.0.2');
});
