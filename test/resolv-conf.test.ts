/**
 * The pod resolv.conf the kubelet writes (nodes/worker/resolv-conf.ts): dnsPolicy ClusterFirst,
 * ClusterFirstWithHostNet, Default, None, the fallback without a cluster DNS, hostNetwork, and
 * dnsConfig merged in (nameservers capped at 3, searches deduplicated, options by name).
 */
import t from 'tap';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { effectiveDnsPolicy, formatResolvConf, parseResolvConf, podResolvConf, type DnsSettings } from '../nodes/worker/resolv-conf.js';

const HOST = '# generated\nnameserver 127.0.0.53\nnameserver 127.0.0.54\nsearch corp.example lab.example\noptions edns0 trust-ad\n';
const settings: DnsSettings = { clusterDNS: '127.100.0.10', clusterDomain: 'cluster.local', hostResolvConf: HOST };

function pod(spec: Record<string, unknown> = {}, namespace = 'shop'): Pod {
  return { metadata: { name: 'p', namespace, uid: 'u' }, spec: { containers: [], ...spec } } as Pod;
}

const text = (p: Pod, s = settings) => formatResolvConf(podResolvConf(p, s));

t.test('ClusterFirst (the default): the kube-dns ClusterIP, the namespace search path then the node\'s, ndots 5', async (t) => {
  t.equal(text(pod()), 'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 127.100.0.10\noptions ndots:5\n');
  t.equal(text(pod({ dnsPolicy: 'ClusterFirstWithHostNet' })), text(pod()), 'ClusterFirstWithHostNet is ClusterFirst');
  t.equal(text(pod({}, 'default'), { ...settings, clusterDomain: 'kube.test.', hostResolvConf: '' }), 'search default.svc.kube.test svc.kube.test kube.test\nnameserver 127.100.0.10\noptions ndots:5\n', 'another cluster domain, no node search domains');
});

t.test('Default: the node\'s resolv.conf; ClusterFirst falls back to it without a cluster DNS or on the host network', async (t) => {
  const node = 'search corp.example lab.example\nnameserver 127.0.0.53\nnameserver 127.0.0.54\noptions edns0 trust-ad\n';
  t.equal(text(pod({ dnsPolicy: 'Default' })), node);
  t.equal(text(pod(), { ...settings, clusterDNS: undefined as string | undefined }), node);
  t.equal(effectiveDnsPolicy(pod(), { ...settings, clusterDNS: '' }), 'Default');
  t.equal(text(pod({ hostNetwork: true })), node, 'hostNetwork with ClusterFirst');
  t.equal(effectiveDnsPolicy(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), settings), 'ClusterFirst');
});

t.test('None: only dnsConfig', async (t) => {
  t.equal(text(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.9'], searches: ['a.test'], options: [{ name: 'ndots', value: '1' }] } })), 'search a.test\nnameserver 127.0.0.9\noptions ndots:1\n');
  t.equal(text(pod({ dnsPolicy: 'None', dnsConfig: {} })), '\n', 'nothing asked: an empty file');
});

t.test('dnsConfig merged into ClusterFirst: nameservers appended up to 3, searches deduplicated, options overridden by name', async (t) => {
  const conf = podResolvConf(pod({ dnsConfig: { nameservers: ['127.0.0.9', '127.100.0.10', '127.0.0.8', '127.0.0.7'], searches: ['extra.test', 'svc.cluster.local'], options: [{ name: 'ndots', value: '2' }, { name: 'single-request-reopen' }] } }), settings);
  t.same(conf.nameservers, ['127.100.0.10', '127.0.0.9', '127.0.0.8']);
  t.same(conf.searches, ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'extra.test']);
  t.same(conf.options, [{ name: 'ndots', value: '2' }, { name: 'single-request-reopen' }]);
});

t.test('parsing resolv.conf: comments, domain, options with values, several nameservers', async (t) => {
  t.same(parseResolvConf('; c\ndomain one.test\nnameserver 127.0.0.1 # local\noptions ndots:3 rotate\n'), {
    nameservers: ['127.0.0.1'],
    searches: ['one.test'],
    options: [{ name: 'ndots', value: '3' }, { name: 'rotate' }],
  });
  t.same(parseResolvConf(''), { nameservers: [], searches: [], options: [] });
});
