/**
 * Pod dnsConfig validation (protocol/validation/pod-dns.ts), every field error at once, worded as
 * kube-apiserver's validatePodDNSConfig.
 */
import t from 'tap';
import type { KubeObject } from '../protocol/objects.js';
import { validateObject } from '../protocol/validation/index.js';

function pod(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } };
}

const lines = (obj: KubeObject) => validateObject(obj).map((c) => `${c.field}: ${c.message}`);

t.test('valid: ClusterFirst with extras, None with a nameserver, a trailing dot in a search domain', async (t) => {
  t.same(lines(pod({ dnsConfig: { nameservers: ['127.0.0.53'], searches: ['corp.example.'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } })), []);
  t.same(lines(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.9'] } })), []);
  t.same(lines(pod({})), []);
});

t.test('dnsPolicy None needs a dnsConfig with a nameserver', async (t) => {
  t.same(lines(pod({ dnsPolicy: 'None' })), ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None']);
  t.same(lines(pod({ dnsPolicy: 'None', dnsConfig: {} })), ['spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None']);
});

t.test('every bad field reported at once', async (t) => {
  const searches = Array.from({ length: 33 }, (_, i) => `s${i}.example`);
  const got = lines(pod({ dnsConfig: { nameservers: ['127.0.0.1', 'dns.example', '127.0.0.2', '127.0.0.3'], searches: [...searches.slice(0, 32), 'Bad_Domain'], options: [{ value: '1' }, { name: 5 }] } }));
  t.same(got, [
    'spec.dnsConfig.nameservers: Invalid value: ["127.0.0.1","dns.example","127.0.0.2","127.0.0.3"]: must not have more than 3 nameservers',
    'spec.dnsConfig.nameservers[1]: Invalid value: "dns.example": must be a valid IP address',
    `spec.dnsConfig.searches: Invalid value: ${JSON.stringify([...searches.slice(0, 32), 'Bad_Domain']).slice(0, 80)}...: must not have more than 32 search paths`,
    'spec.dnsConfig.searches[32]: Invalid value: "Bad_Domain": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
    'spec.dnsConfig.options[0].name: Required value: Option.Name must not be empty',
    'spec.dnsConfig.options[1].name: Invalid value: "integer": spec.dnsConfig.options[1].name in body must be of type string: 5',
  ]);
});

t.test('the search list may not pass 2048 characters', async (t) => {
  const long = Array.from({ length: 20 }, (_, i) => `${'a'.repeat(100)}.e${i}`);
  t.match(lines(pod({ dnsConfig: { searches: long } })), [/must not have more than 2048 characters \(including spaces\) in the search list$/]);
});
