/**
 * NetworkPolicy validation (protocol/validation/netpol.ts): selectors, rules' ports and peers,
 * ipBlock CIDRs, policyTypes; every problem at once, worded as kube-apiserver words it.
 */
import t from 'tap';
import { CauseType, type FieldCause } from '../protocol/errors.js';
import { resolveKind } from '../protocol/kinds.js';
import { validateObject } from '../protocol/validation/index.js';

/** A valid policy, changed by `edit`. */
function np(edit: (p: any) => void = () => {}): any {
  const p: any = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'db-access', namespace: 'default' },
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'api' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
      egress: [{ to: [{ ipBlock: { cidr: '127.0.0.0/8', except: ['127.0.0.1/32'] } }] }],
    },
  };
  edit(p);
  return p;
}

const brief = (causes: FieldCause[]) => causes.map((c) => `${c.reason} ${c.field}`);
type Tap = Pick<typeof t, 'same' | 'equal'>;

function one(t: Tap, obj: unknown, field: string, reason: CauseType, message?: string): void {
  const causes = validateObject(obj);
  t.same(brief(causes), [`${reason} ${field}`], `one ${reason} on ${field}`);
  if (message !== undefined && causes.length === 1) t.equal(causes[0].message, message);
}

t.test('the kind: networking.k8s.io/v1, short name netpol', async (t) => {
  t.equal(resolveKind('netpol'), 'NetworkPolicy');
  t.equal(resolveKind('networkpolicies'), 'NetworkPolicy');
  t.equal(resolveKind('networkpolicy'), 'NetworkPolicy');
  one(t, np((p) => (p.apiVersion = 'v1')), 'apiVersion', CauseType.NotSupported, 'Unsupported value: "v1": supported values: "networking.k8s.io/v1"');
});

t.test('valid policies', async (t) => {
  t.same(validateObject(np()), []);
  t.same(validateObject(np((p) => (p.spec = { podSelector: {}, policyTypes: ['Ingress'] }))), [], 'default deny ingress');
  t.same(validateObject(np((p) => (p.spec = { podSelector: {}, ingress: [{}] }))), [], 'allow all ingress');
  t.same(validateObject(np((p) => (p.spec = {}))), [], 'podSelector omitted: every pod');
  t.same(validateObject(np((p) => (p.spec = { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] }))), []);
  t.same(
    validateObject(
      np((p) => (p.spec.ingress = [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }, podSelector: {} }], ports: [{ port: 'http' }, { port: 8000, endPort: 8100 }, {}] }])),
    ),
    [],
    'namespace and pod selector together, named port, a range, any port',
  );
  t.same(validateObject(np((p) => (p.spec.egress[0].to[0].ipBlock = { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] }))), [], 'IPv6 blocks');
  t.same(validateObject(np((p) => (p.spec.egress[0].to[0].ipBlock = { cidr: '0.0.0.0/0' }))), []);
});

t.test('peers', async (t) => {
  one(t, np((p) => (p.spec.ingress[0].from[0] = {})), 'spec.ingress[0].from[0]', CauseType.Required, 'Required value: must specify a peer');
  one(
    t,
    np((p) => (p.spec.ingress[0].from[0] = { ipBlock: { cidr: '127.0.0.0/8' }, podSelector: {} })),
    'spec.ingress[0].from[0]',
    CauseType.Forbidden,
    'Forbidden: may not specify both ipBlock and another peer',
  );
  one(t, np((p) => (p.spec.egress[0].to[0] = { ipBlock: { cidr: '127.0.0.0/8' }, namespaceSelector: {} })), 'spec.egress[0].to[0]', CauseType.Forbidden);
  one(
    t,
    np((p) => (p.spec.ingress[0].from[0].podSelector = { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] })),
    'spec.ingress[0].from[0].podSelector.matchExpressions[0].values',
    CauseType.Required,
  );
  one(t, np((p) => (p.spec.ingress[0].from[0].podSelector = { matchLabels: { 'bad key!': 'x' } })), 'spec.ingress[0].from[0].podSelector.matchLabels', CauseType.Invalid);
  one(t, np((p) => (p.spec.ingress[0].from = 'everyone')), 'spec.ingress[0].from', CauseType.TypeInvalid);
});

t.test('ipBlock', async (t) => {
  const block = (b: unknown) => np((p) => (p.spec.egress[0].to[0].ipBlock = b));
  const CIDR = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';
  one(t, block({ cidr: '127.0.0.0/33' }), 'spec.egress[0].to[0].ipBlock.cidr', CauseType.Invalid, `Invalid value: "127.0.0.0/33": ${CIDR}`);
  one(t, block({ cidr: '127.0.0.1' }), 'spec.egress[0].to[0].ipBlock.cidr', CauseType.Invalid, `Invalid value: "127.0.0.1": ${CIDR}`);
  one(t, block({ cidr: 'localhost/8' }), 'spec.egress[0].to[0].ipBlock.cidr', CauseType.Invalid);
  one(t, block({}), 'spec.egress[0].to[0].ipBlock.cidr', CauseType.Required);
  one(t, block({ cidr: '127.0.0.0/8', except: ['10.0.0.0/8'] }), 'spec.egress[0].to[0].ipBlock.except[0]', CauseType.Invalid, 'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`');
  one(t, block({ cidr: '127.0.0.0/8', except: ['127.0.0.0/8'] }), 'spec.egress[0].to[0].ipBlock.except[0]', CauseType.Invalid, 'Invalid value: "127.0.0.0/8": must be a strict subset of `cidr`');
  one(t, block({ cidr: '127.1.0.0/16', except: ['127.0.0.0/8'] }), 'spec.egress[0].to[0].ipBlock.except[0]', CauseType.Invalid);
  one(t, block({ cidr: '127.0.0.0/8', except: ['127.0.0.x/24'] }), 'spec.egress[0].to[0].ipBlock.except[0]', CauseType.Invalid, `Invalid value: "127.0.0.x/24": ${CIDR}`);
  one(t, block({ cidr: '::/0', except: ['127.0.0.0/8'] }), 'spec.egress[0].to[0].ipBlock.except[0]', CauseType.Invalid, 'Invalid value: "127.0.0.0/8": must be a strict subset of `cidr`');
  t.same(validateObject(block({ cidr: '127.0.0.0/8', except: ['127.0.0.0/9', '127.200.1.7/32'] })), []);
});

t.test('ports', async (t) => {
  const port = (p: unknown) => np((x) => (x.spec.ingress[0].ports[0] = p));
  one(t, port({ port: 0 }), 'spec.ingress[0].ports[0].port', CauseType.Invalid, 'Invalid value: 0: must be between 1 and 65535, inclusive');
  one(t, port({ port: 65536 }), 'spec.ingress[0].ports[0].port', CauseType.Invalid);
  one(t, port({ port: 'web_http' }), 'spec.ingress[0].ports[0].port', CauseType.Invalid, 'Invalid value: "web_http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  one(t, port({ port: 80, protocol: 'ICMP' }), 'spec.ingress[0].ports[0].protocol', CauseType.NotSupported, 'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"');
  one(t, port({ port: 8080, endPort: 80 }), 'spec.ingress[0].ports[0].endPort', CauseType.Invalid, 'Invalid value: 8080: must be greater than or equal to `port`');
  one(t, port({ port: 'http', endPort: 90 }), 'spec.ingress[0].ports[0].endPort', CauseType.Invalid, 'Invalid value: 90: may not be specified when `port` is non-numeric');
  one(t, port({ endPort: 90 }), 'spec.ingress[0].ports[0].endPort', CauseType.Invalid, 'Invalid value: 90: may not be specified when `port` is not specified');
  one(t, port({ port: 80, endPort: 70000 }), 'spec.ingress[0].ports[0].endPort', CauseType.Invalid, 'Invalid value: 70000: must be between 1 and 65535, inclusive');
  one(t, port({ port: 80.5 }), 'spec.ingress[0].ports[0].port', CauseType.TypeInvalid);
  one(t, port({ port: true }), 'spec.ingress[0].ports[0].port', CauseType.TypeInvalid);
});

t.test('policyTypes and the pod selector', async (t) => {
  one(t, np((p) => (p.spec.policyTypes = ['Ingress', 'Sideways'])), 'spec.policyTypes[1]', CauseType.NotSupported, 'Unsupported value: "Sideways": supported values: "Ingress", "Egress"');
  one(t, np((p) => (p.spec.policyTypes = ['Ingress', 'Egress', 'Ingress'])), 'spec.policyTypes', CauseType.Invalid);
  one(t, np((p) => (p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'Near' }] })), 'spec.podSelector.matchExpressions[0].operator', CauseType.NotSupported);
  one(t, np((p) => (p.spec.podSelector = 'app=db')), 'spec.podSelector', CauseType.TypeInvalid);
  one(t, np((p) => (p.metadata.name = 'Bad_Name')), 'metadata.name', CauseType.Invalid);
});

t.test('every problem at once', async (t) => {
  const bad = np((p) => {
    p.spec.policyTypes = ['Both'];
    p.spec.ingress = [{ from: [{}, { ipBlock: { cidr: '300.0.0.0/8' } }], ports: [{ port: 0 }, { port: 'x', endPort: 3 }] }];
    p.spec.egress = [{ to: [{ ipBlock: { cidr: '127.0.0.0/8', except: ['10.0.0.0/8'] }, podSelector: {} }] }];
  });
  t.same(brief(validateObject(bad)).sort(), [
    'FieldValueForbidden spec.egress[0].to[0]',
    'FieldValueInvalid spec.egress[0].to[0].ipBlock.except[0]',
    'FieldValueInvalid spec.ingress[0].from[1].ipBlock.cidr',
    'FieldValueInvalid spec.ingress[0].ports[0].port',
    'FieldValueInvalid spec.ingress[0].ports[1].endPort',
    'FieldValueNotSupported spec.policyTypes[0]',
    'FieldValueRequired spec.ingress[0].from[0]',
  ]);
});
