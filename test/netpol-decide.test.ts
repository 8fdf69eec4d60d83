/**
 * The NetworkPolicy decision (actors/netpol): isolation per direction, rules adding up,
 * peers (pod, namespace, both, ipBlock with except), ports (number, range, name, protocol).
 */
import t from 'tap';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import { compilePolicies, decide, podIdentity, sourceMatters, type Connection, type Peer, type PolicySet, type Protocol } from '../actors/netpol/index.js';

function policy(name: string, spec: NetworkPolicySpec, namespace = 'default'): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

function ns(name: string, labels: Record<string, string> = {}): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

const NAMESPACES = [ns('default'), ns('prod', { env: 'prod' }), ns('dev', { env: 'dev' })];

function set(...policies: NetworkPolicy[]): PolicySet {
  return compilePolicies(policies, NAMESPACES);
}

function pod(name: string, labels: Record<string, string>, namespace = 'default', ip = '127.64.0.2'): Peer {
  return {
    ip,
    pod: podIdentity({
      metadata: { name, namespace, labels },
      spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }] },
    }),
  };
}

const web = pod('web', { app: 'web' }, 'default', '127.64.0.10');
const api = pod('api', { app: 'api' }, 'default', '127.64.0.11');
const prodApi = pod('api', { app: 'api' }, 'prod', '127.64.1.11');
const devApi = pod('api', { app: 'api' }, 'dev', '127.64.2.11');
const host: Peer = { ip: '127.0.0.1' };

function conn(source: Peer, dest: Peer, port = 8080, protocol: Protocol = 'TCP'): Connection {
  return { source, dest, port, protocol };
}

const allowed = (s: PolicySet, c: Connection) => decide(s, c).allowed;

t.test('no policy: everything is allowed, and nobody needs identifying', async (t) => {
  const s = set();
  t.ok(allowed(s, conn(api, web)));
  t.ok(allowed(s, conn(host, web)));
  t.equal(decide(s, conn(api, web)).reason, 'not isolated');
  t.notOk(sourceMatters(s, web));
});

t.test('default deny ingress isolates every pod of its namespace only', async (t) => {
  const s = set(policy('deny', { podSelector: {}, policyTypes: ['Ingress'] }));
  const v = decide(s, conn(api, web));
  t.notOk(v.allowed);
  t.equal(v.direction, 'Ingress');
  t.same(v.policies, ['default/deny']);
  t.equal(v.reason, 'ingress from default/api to default/web port 8080/TCP is not allowed by default/deny');
  t.notOk(allowed(s, conn(host, web)), 'non-pod sources too');
  t.ok(allowed(s, conn(api, prodApi)), 'a pod of another namespace is not isolated');
  t.ok(allowed(s, conn(web, { ip: '127.0.0.5' })), 'egress is not affected');
  t.ok(sourceMatters(s, web));
  t.notOk(sourceMatters(s, prodApi), 'destination not isolated and no egress policy');
});

t.test('a policy selecting other pods does not isolate this one', async (t) => {
  const s = set(policy('db-only', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] }));
  t.ok(allowed(s, conn(api, web)));
});

t.test('policyTypes default: Ingress always, Egress only with egress rules', async (t) => {
  const noTypes = set(policy('p', { podSelector: {}, egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }));
  t.notOk(allowed(noTypes, conn(api, web)), 'no ingress rules: ingress isolated');
  const egressOnly = set(policy('p', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Egress'] }));
  t.notOk(allowed(egressOnly, conn(api, web)), 'egress isolated, nothing allowed');
  t.equal(decide(egressOnly, conn(api, web)).direction, 'Egress');
  t.ok(allowed(egressOnly, conn(web, api)), 'ingress to api not affected');
  t.ok(sourceMatters(egressOnly, prodApi), 'some pod is egress-isolated: the source always matters');
  const ingressWithEgressRules = set(policy('p', { podSelector: {}, policyTypes: ['Ingress'], egress: [{}] }));
  t.notOk(allowed(ingressWithEgressRules, conn(api, web)), 'egress rules ignored without the Egress type');
});

t.test('pod selector peers: same namespace only', async (t) => {
  const s = set(policy('from-api', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }] }] }));
  t.ok(allowed(s, conn(api, web)));
  t.equal(decide(s, conn(api, web)).reason, 'ingress allowed by default/from-api');
  t.notOk(allowed(s, conn(prodApi, web)), 'same labels in another namespace do not match');
  t.notOk(allowed(s, conn(pod('x', { app: 'x' }), web)));
  t.notOk(allowed(s, conn(host, web)), 'a non-pod address never matches a pod selector');
  const empty = set(policy('all-pods', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: {} }] }] }));
  t.ok(allowed(empty, conn(pod('x', { app: 'x' }), web)), 'podSelector {} = every pod of the namespace');
  t.notOk(allowed(empty, conn(devApi, web)));
});

t.test('namespace selector peers, alone and with a pod selector', async (t) => {
  const byNs = set(policy('from-prod', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: 'prod' } } }] }] }));
  t.ok(allowed(byNs, conn(prodApi, web)));
  t.notOk(allowed(byNs, conn(devApi, web)));
  t.notOk(allowed(byNs, conn(api, web)), 'the policy\'s own namespace is not special');
  const byName = set(policy('from-dev', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dev' } } }] }] }));
  t.ok(allowed(byName, conn(devApi, web)), 'the automatic kubernetes.io/metadata.name label');
  const allNs = set(policy('any-ns', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }));
  t.ok(allowed(allNs, conn(devApi, web)));
  t.notOk(allowed(allNs, conn(host, web)), 'namespaceSelector {} = every pod, not every address');
  const both = set(
    policy('prod-api', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: 'prod' } }, podSelector: { matchLabels: { app: 'api' } } }] }] }),
  );
  t.ok(allowed(both, conn(prodApi, web)));
  t.notOk(allowed(both, conn(pod('db', { app: 'db' }, 'prod'), web)), 'both must match');
  const unknownNs = set(policy('p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ghost' } } }] }] }));
  t.ok(allowed(unknownNs, conn(pod('a', {}, 'ghost'), web)), 'a namespace not (yet) seen still has its name label');
  const expr = set(policy('p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] } }] }] }));
  t.ok(allowed(expr, conn(prodApi, web)));
  t.ok(allowed(expr, conn(api, web)), 'NotIn matches a namespace without the label');
  t.notOk(allowed(expr, conn(devApi, web)));
});

t.test('ipBlock peers: addresses that are not pods, minus except', async (t) => {
  const s = set(policy('from-host', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '127.0.0.0/24', except: ['127.0.0.2/32'] } }] }] }));
  t.ok(allowed(s, conn(host, web)));
  t.notOk(allowed(s, conn({ ip: '127.0.0.2' }, web)), 'excepted');
  t.notOk(allowed(s, conn({ ip: '127.0.1.1' }, web)), 'outside');
  t.notOk(allowed(s, conn(pod('p', {}, 'default', '127.0.0.9'), web)), 'a pod inside the block is judged by its labels, not its address');
  const anywhere = set(policy('p', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }));
  t.ok(allowed(anywhere, conn({ ip: '127.9.9.9' }, web)));
  const hostBits = set(policy('p', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '127.0.0.77/24' } }] }] }));
  t.ok(allowed(hostBits, conn(host, web)), 'host bits of the cidr are ignored, as net.ParseCIDR does');
  const v6 = set(policy('p', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '::/0' } }] }] }));
  t.notOk(allowed(v6, conn(host, web)), 'an IPv6 block matches no IPv4 address');
});

t.test('ports: number, range, named, protocol, and any', async (t) => {
  const only = (ports: NonNullable<NetworkPolicySpec['ingress']>[number]['ports']) => set(policy('p', { podSelector: {}, ingress: [{ ports }] }));
  t.ok(allowed(only([{ port: 8080 }]), conn(api, web, 8080)));
  t.notOk(allowed(only([{ port: 8080 }]), conn(api, web, 9090)));
  t.notOk(allowed(only([{ port: 8080 }]), conn(api, web, 8080, 'UDP')), 'protocol defaults to TCP');
  t.ok(allowed(only([{ port: 8080, protocol: 'UDP' }]), conn(api, web, 8080, 'UDP')));
  t.ok(allowed(only([{ port: 8000, endPort: 8100 }]), conn(api, web, 8100)));
  t.notOk(allowed(only([{ port: 8000, endPort: 8100 }]), conn(api, web, 8101)));
  t.ok(allowed(only([{ port: 'http' }]), conn(api, web, 8080)), 'named: the destination pod\'s container port');
  t.notOk(allowed(only([{ port: 'http' }]), conn(api, web, 9090)));
  t.notOk(allowed(only([{ port: 'dns' }]), conn(api, web, 53, 'TCP')), 'the named port is UDP');
  t.ok(allowed(only([{ port: 'dns', protocol: 'UDP' }]), conn(api, web, 53, 'UDP')));
  const egressNamed = set(policy('p', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] }));
  t.notOk(allowed(egressNamed, conn(api, { ip: '127.0.0.8' }, 8080)), 'a non-pod destination has no named ports');
  t.ok(allowed(egressNamed, conn(api, web, 8080)));
  t.ok(allowed(only([{ protocol: 'UDP' }]), conn(api, web, 5000, 'UDP')), 'no port: every port of the protocol');
  t.notOk(allowed(only([{ protocol: 'UDP' }]), conn(api, web, 5000, 'TCP')));
  t.ok(allowed(only([{ port: 1 }, { port: 8080 }]), conn(api, web)), 'ports are ORed');
});

t.test('a rule needs a matching peer AND a matching port', async (t) => {
  const s = set(policy('p', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 8080 }] }] }));
  t.ok(allowed(s, conn(api, web, 8080)));
  t.notOk(allowed(s, conn(api, web, 9000)));
  t.notOk(allowed(s, conn(pod('x', { app: 'x' }), web, 8080)));
});

t.test('rules and policies add up; an allow-all rule wins over a deny-all policy', async (t) => {
  const deny = policy('deny', { podSelector: {}, policyTypes: ['Ingress'] });
  const allowApi = policy('allow-api', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }] }] });
  const s = set(deny, allowApi);
  t.ok(allowed(s, conn(api, web)));
  t.notOk(allowed(s, conn(web, api)), 'api is still isolated by deny');
  const denied = decide(set(deny, policy('other', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 1 }] }] })), conn(api, web));
  t.same(denied.policies, ['default/deny', 'default/other'], 'every isolating policy is named');
  t.ok(allowed(set(deny, policy('all', { podSelector: {}, ingress: [{}] })), conn(host, web)), 'ingress: [{}] allows everything');
});

t.test('egress: the source pod\'s policies, judged on the destination', async (t) => {
  const s = set(
    policy('api-out', {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'http' }] }, { to: [{ ipBlock: { cidr: '127.0.0.0/24' } }] }],
    }),
  );
  t.ok(allowed(s, conn(api, web, 8080)), 'to web on its named port');
  t.notOk(allowed(s, conn(api, web, 9000)));
  t.notOk(allowed(s, conn(api, pod('db', { app: 'db' }))));
  t.ok(allowed(s, conn(api, { ip: '127.0.0.42' }, 9000)), 'ipBlock: a non-pod destination');
  t.notOk(allowed(s, conn(api, { ip: '127.0.5.1' })));
  t.ok(allowed(s, conn(web, api)), 'another pod is not egress-isolated');
  t.ok(allowed(s, conn(host, api)), 'an unknown source has no egress policy');
});

t.test('both sides must allow: egress checked first, then ingress', async (t) => {
  const s = set(
    policy('api-out', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: {} }] }] }),
    policy('web-in', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'other' } } }] }] }),
  );
  const v = decide(s, conn(api, web));
  t.notOk(v.allowed, 'egress allows it, ingress does not');
  t.equal(v.direction, 'Ingress');
  const both = set(
    policy('api-out', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Egress'], egress: [] }),
    policy('web-in', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] }),
  );
  t.equal(decide(both, conn(api, web)).direction, 'Egress', 'egress denied: reported as egress');
  t.equal(decide(set(policy('web-in', { podSelector: {}, ingress: [{}] })), conn(api, web)).reason, 'ingress allowed by default/web-in');
});
