/**
 * Service and Endpoints validation (protocol/validation/service.ts): every problem as a field
 * error worded as kube-apiserver words it. Allocation errors (a taken ClusterIP or node port) are
 * the API server's and are tested in service-allocator.test.ts.
 */
import t from 'tap';
import { CauseType, type FieldCause } from '../protocol/errors.js';
import type { KubeObject } from '../protocol/objects.js';
import { validateObject } from '../protocol/validation/index.js';

/** A valid Service, changed by `edit`. */
function svc(edit: (s: any) => void = () => {}): any {
  const s: any = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
  edit(s);
  return s;
}

const brief = (causes: FieldCause[]) => causes.map((c) => `${c.reason} ${c.field}`);
const lines = (causes: FieldCause[]) => causes.map((c) => `${c.field}: ${c.message}`);
type Tap = Pick<typeof t, 'same' | 'equal' | 'match'>;

function one(t: Tap, obj: unknown, field: string, reason: CauseType, message?: string | RegExp, old?: KubeObject): void {
  const causes = validateObject(obj, old);
  t.same(brief(causes), [`${reason} ${field}`], `one ${reason} on ${field}`);
  if (message !== undefined && causes.length === 1) {
    if (typeof message === 'string') t.equal(causes[0].message, message);
    else t.match(causes[0].message, message);
  }
}

t.test('valid services of every type', async (t) => {
  t.same(validateObject(svc()), []);
  t.same(validateObject(svc((s) => (s.spec.type = 'NodePort'))), []);
  t.same(validateObject(svc((s) => Object.assign(s.spec, { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }))), []);
  t.same(validateObject(svc((s) => Object.assign(s.spec, { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }))), []);
  t.same(validateObject(svc((s) => Object.assign(s.spec, { clusterIP: 'None', ports: [] }))), [], 'headless may have no ports');
  t.same(validateObject(svc((s) => (s.spec = { type: 'ExternalName', externalName: 'db.example.com.' }))), []);
  t.same(validateObject(svc((s) => (s.spec.selector = undefined))), [], 'no selector: Endpoints are the user\'s');
  t.same(validateObject(svc((s) => Object.assign(s.spec, { clusterIP: '127.100.0.20', clusterIPs: ['127.100.0.20'] }))), []);
  t.same(validateObject(svc((s) => Object.assign(s.spec, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }))), []);
  t.same(
    validateObject(
      svc((s) => (s.spec.ports = [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' }])),
    ),
    [],
    'the same port number over two protocols',
  );
});

t.test('bad ports', async (t) => {
  one(t, svc((s) => (s.spec.ports[0].port = 0)), 'spec.ports[0].port', CauseType.Invalid, 'Invalid value: 0: must be between 1 and 65535, inclusive');
  one(t, svc((s) => (s.spec.ports[0].port = 70000)), 'spec.ports[0].port', CauseType.Invalid, 'Invalid value: 70000: must be between 1 and 65535, inclusive');
  one(t, svc((s) => delete s.spec.ports[0].port), 'spec.ports[0].port', CauseType.Required, 'Required value');
  one(t, svc((s) => (s.spec.ports[0].port = '80')), 'spec.ports[0].port', CauseType.TypeInvalid);
  one(t, svc((s) => (s.spec.ports[0].targetPort = 0)), 'spec.ports[0].targetPort', CauseType.Invalid, 'Invalid value: 0: must be between 1 and 65535, inclusive');
  one(t, svc((s) => (s.spec.ports[0].targetPort = 'http_port')), 'spec.ports[0].targetPort', CauseType.Invalid, 'Invalid value: "http_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  one(t, svc((s) => (s.spec.ports[0].targetPort = 'a-very-long-port-name')), 'spec.ports[0].targetPort', CauseType.Invalid, 'Invalid value: "a-very-long-port-name": must be no more than 15 characters');
  one(t, svc((s) => (s.spec.ports[0].protocol = 'HTTP')), 'spec.ports[0].protocol', CauseType.NotSupported, 'Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"');
  one(t, svc((s) => (s.spec.ports = [])), 'spec.ports', CauseType.Required);
  one(t, svc((s) => (s.spec.ports[0].name = 'Web_Port')), 'spec.ports[0].name', CauseType.Invalid, /a lowercase RFC 1123 label/);
  one(t, svc((s) => (s.spec.ports = 'http')), 'spec.ports', CauseType.TypeInvalid);
});

t.test('port names: required when there are several, unique; port+protocol unique', async (t) => {
  one(t, svc((s) => s.spec.ports.push({ port: 443 })), 'spec.ports[1].name', CauseType.Required);
  one(t, svc((s) => s.spec.ports.push({ name: 'http', port: 443 })), 'spec.ports[1].name', CauseType.Duplicate, 'Duplicate value: "http"');
  one(t, svc((s) => s.spec.ports.push({ name: 'again', port: 80 })), 'spec.ports[1]', CauseType.Duplicate, 'Duplicate value: "80/TCP"');
});

t.test('node ports: only for NodePort/LoadBalancer, in 30000-32767, unique within the service', async (t) => {
  one(t, svc((s) => (s.spec.ports[0].nodePort = 30080)), 'spec.ports[0].nodePort', CauseType.Forbidden, "Forbidden: may not be used when `type` is 'ClusterIP'");
  one(
    t,
    svc((s) => Object.assign(s.spec, { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] })),
    'spec.ports[0].nodePort',
    CauseType.Invalid,
    'Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
  );
  one(t, svc((s) => Object.assign(s.spec, { type: 'NodePort', ports: [{ port: 80, nodePort: 32768 }] })), 'spec.ports[0].nodePort', CauseType.Invalid);
  one(
    t,
    svc((s) =>
      Object.assign(s.spec, {
        type: 'NodePort',
        ports: [
          { name: 'a', port: 80, nodePort: 30080 },
          { name: 'b', port: 81, nodePort: 30080 },
        ],
      }),
    ),
    'spec.ports[1].nodePort',
    CauseType.Duplicate,
    'Duplicate value: 30080',
  );
  t.same(
    validateObject(
      svc((s) =>
        Object.assign(s.spec, {
          type: 'NodePort',
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30053 },
          ],
        }),
      ),
    ),
    [],
    'one node port over two protocols is fine',
  );
});

t.test('bad selector labels', async (t) => {
  one(t, svc((s) => (s.spec.selector = { 'bad key!': 'web' })), 'spec.selector', CauseType.Invalid, /^Invalid value: "bad key!": name part must consist of alphanumeric characters/);
  one(t, svc((s) => (s.spec.selector = { app: 'not a value' })), 'spec.selector', CauseType.Invalid, /^Invalid value: "not a value": a valid label must be an empty string/);
  one(t, svc((s) => (s.spec.selector = { app: 7 })), 'spec.selector[app]', CauseType.TypeInvalid);
});

t.test('ClusterIP: a valid IP or None; headless only for ClusterIP; none for ExternalName', async (t) => {
  one(t, svc((s) => (s.spec.clusterIP = '10.0.0.300')), 'spec.clusterIP', CauseType.Invalid, 'Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  one(t, svc((s) => Object.assign(s.spec, { type: 'NodePort', clusterIP: 'None' })), 'spec.clusterIP', CauseType.Invalid, "Invalid value: \"None\": may not be set to 'None' for NodePort services");
  one(t, svc((s) => Object.assign(s.spec, { type: 'LoadBalancer', clusterIP: 'None' })), 'spec.clusterIP', CauseType.Invalid);
  one(t, svc((s) => Object.assign(s.spec, { clusterIP: '127.100.0.20', clusterIPs: ['127.100.0.21'] })), 'spec.clusterIPs[0]', CauseType.Invalid, 'Invalid value: "127.100.0.21": must match clusterIP when both are specified');
  one(t, svc((s) => (s.spec.clusterIPs = ['127.100.0.20', '127.100.0.21'])), 'spec.clusterIPs', CauseType.Invalid);
  one(t, svc((s) => (s.spec = { type: 'ExternalName', externalName: 'x.example.com', clusterIP: '127.100.0.9' })), 'spec.clusterIP', CauseType.Forbidden);
  one(t, svc((s) => (s.spec = { type: 'ExternalName' })), 'spec.externalName', CauseType.Required);
  one(t, svc((s) => (s.spec = { type: 'ExternalName', externalName: 'Not A Host' })), 'spec.externalName', CauseType.Invalid);
});

t.test('type, affinity, traffic policies and IP families', async (t) => {
  one(t, svc((s) => (s.spec.type = 'Ingress')), 'spec.type', CauseType.NotSupported, 'Unsupported value: "Ingress": supported values: "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"');
  one(t, svc((s) => (s.spec.sessionAffinity = 'Cookie')), 'spec.sessionAffinity', CauseType.NotSupported);
  one(
    t,
    svc((s) => Object.assign(s.spec, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } })),
    'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
    CauseType.Invalid,
    'Invalid value: 0: must be greater than 0 and less than 86400',
  );
  one(t, svc((s) => (s.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10 } })), 'spec.sessionAffinityConfig', CauseType.Forbidden);
  one(t, svc((s) => (s.spec.externalTrafficPolicy = 'Local')), 'spec.externalTrafficPolicy', CauseType.Invalid, 'Invalid value: "Local": may only be set for externally-accessible services');
  one(t, svc((s) => (s.spec.internalTrafficPolicy = 'Nearby')), 'spec.internalTrafficPolicy', CauseType.NotSupported);
  one(t, svc((s) => (s.spec.ipFamilyPolicy = 'RequireDualStack')), 'spec.ipFamilyPolicy', CauseType.Invalid, 'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services');
  one(t, svc((s) => (s.spec.ipFamilies = ['IPv6'])), 'spec.ipFamilies[0]', CauseType.Invalid, 'Invalid value: "IPv6": not configured on this cluster');
  one(t, svc((s) => (s.spec.loadBalancerIP = '127.112.0.5')), 'spec.loadBalancerIP', CauseType.Forbidden);
});

t.test('name: a DNS-1123 label (a Service name is a DNS name)', async (t) => {
  one(t, svc((s) => (s.metadata.name = 'web.v2')), 'metadata.name', CauseType.Invalid, /a lowercase RFC 1123 label/);
});

t.test('several mistakes, every cause at once', async (t) => {
  const causes = validateObject(
    svc((s) =>
      Object.assign(s.spec, {
        type: 'NodePort',
        clusterIP: 'None',
        selector: { app: 'bad value!' },
        ports: [
          { name: 'a', port: 0, nodePort: 40000 },
          { name: 'a', port: 81 },
        ],
      }),
    ),
  );
  t.same(lines(causes).map((l) => l.split(':')[0]), ['spec.clusterIP', 'spec.selector', 'spec.ports[0].port', 'spec.ports[0].nodePort', 'spec.ports[1].name']);
});

t.test('clusterIP and clusterIPs are immutable; becoming ExternalName drops them', async (t) => {
  const old = svc((s) => Object.assign(s.spec, { clusterIP: '127.100.0.20', clusterIPs: ['127.100.0.20'] }));
  old.metadata.resourceVersion = '5';
  const same = structuredClone(old);
  same.spec.ports[0].port = 8080;
  t.same(validateObject(same, old), [], 'other fields may change');
  const moved = structuredClone(old);
  moved.spec.clusterIP = '127.100.0.21';
  moved.spec.clusterIPs = ['127.100.0.21'];
  one(t, moved, 'spec.clusterIP', CauseType.Invalid, 'Invalid value: "127.100.0.21": field is immutable', old);
  const dropped = structuredClone(old);
  delete dropped.spec.clusterIP;
  delete dropped.spec.clusterIPs;
  one(t, dropped, 'spec.clusterIP', CauseType.Invalid, 'Invalid value: "": field is immutable', old);
  const headless = structuredClone(old);
  headless.spec.clusterIP = 'None';
  headless.spec.clusterIPs = ['None'];
  one(t, headless, 'spec.clusterIP', CauseType.Invalid, /field is immutable/, old);
  const onlyList = structuredClone(old);
  onlyList.spec.clusterIPs = ['127.100.0.22'];
  t.same(brief(validateObject(onlyList, old)), [`${CauseType.Invalid} spec.clusterIPs[0]`, `${CauseType.Invalid} spec.clusterIPs[0]`], 'clusterIPs must match clusterIP and may not change');
  const external = structuredClone(old);
  external.spec = { type: 'ExternalName', externalName: 'db.example.com' };
  t.same(validateObject(external, old), [], 'to ExternalName');
});

t.test('Endpoints', async (t) => {
  const ep = (subsets: unknown): any => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets });
  t.same(
    validateObject(
      ep([
        {
          addresses: [{ ip: '127.64.0.2', nodeName: 'node-1', targetRef: { kind: 'Pod', name: 'a', namespace: 'default' } }],
          notReadyAddresses: [{ ip: '127.64.1.2' }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
      ]),
    ),
    [],
  );
  one(t, ep([{ addresses: [{ ip: 'nope' }] }]), 'subsets[0].addresses[0].ip', CauseType.Invalid);
  one(t, ep([{ addresses: [{}] }]), 'subsets[0].addresses[0].ip', CauseType.Required);
  one(t, ep([{ addresses: [{ ip: '127.64.0.2' }], ports: [{ name: 'a', port: 80 }, { port: 81 }] }]), 'subsets[0].ports[1].name', CauseType.Required);
  one(t, ep([{ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }]), 'subsets[0].ports[1].name', CauseType.Duplicate);
  one(t, ep([{ ports: [{ port: 0 }] }]), 'subsets[0].ports[0].port', CauseType.Invalid);
  one(t, ep([{ addresses: [{ ip: '127.64.0.2', nodeName: 'Node_1' }] }]), 'subsets[0].addresses[0].nodeName', CauseType.Invalid);
  one(t, ep('all'), 'subsets', CauseType.TypeInvalid);
});
