/**
 * The cluster DNS zone (nodes/dns/zone.ts) and the pure answer to a query (nodes/dns/answer.ts):
 * A and SRV of ClusterIP services, headless services and their endpoints, ExternalName CNAMEs,
 * pod records, NODATA/NXDOMAIN with the SOA, REFUSED outside the domain, FORMERR/NOTIMP on bad
 * messages, truncation over UDP, EDNS, case as the client spelled it.
 */
import t from 'tap';
import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from 'dns-packet';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { buildZone, DNS_TTL, type ZoneInput } from '../nodes/dns/zone.js';
import { EDNS_PAYLOAD, respond, UDP_LIMIT } from '../nodes/dns/answer.js';

function svc(name: string, spec: Record<string, unknown>, namespace = 'default'): Service {
  return { metadata: { name, namespace }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec } } as Service;
}

function endpoints(name: string, addresses: Array<{ ip: string; hostname?: string }>, ports: Array<{ name: string; port: number; protocol?: string }> = [{ name: 'http', port: 8080 }], opts: { namespace?: string; notReady?: string[] } = {}): Endpoints {
  return {
    metadata: { name, namespace: opts.namespace ?? 'default' },
    subsets: [{ addresses, ...(opts.notReady ? { notReadyAddresses: opts.notReady.map((ip) => ({ ip })) } : {}), ports: ports.map((p) => ({ protocol: 'TCP', ...p })) }],
  } as Endpoints;
}

function pod(name: string, ip: string | undefined, namespace = 'default', phase = 'Running'): Pod {
  return { metadata: { name, namespace }, spec: { containers: [] }, status: { phase, ...(ip ? { podIP: ip } : {}) } } as unknown as Pod;
}

const base: ZoneInput = {
  nameserverIP: '127.100.0.10',
  services: [
    svc('web', { clusterIP: '127.100.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 9000, protocol: 'TCP' }] }),
    svc('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
    svc('empty', { clusterIP: 'None' }),
    svc('ext', { type: 'ExternalName', externalName: 'example.com' }),
    svc('alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local.' }),
    svc('api', { clusterIP: '127.100.0.30' }, 'prod'),
  ],
  endpoints: [
    endpoints('db', [{ ip: '127.64.0.5' }, { ip: '127.64.1.7', hostname: 'db-0' }], [{ name: 'pg', port: 5433 }], { notReady: ['127.64.0.9'] }),
    endpoints('web', [{ ip: '127.64.0.2' }], [{ name: 'http', port: 8080 }]),
  ],
  pods: [pod('a', '127.64.0.5'), pod('b', '127.64.3.3', 'prod'), pod('pending', undefined), pod('done', '127.64.0.77', 'default', 'Succeeded')],
};

const zone = buildZone(base);

function query(name: string, type: RecordType | 'ANY', opts: { id?: number; edns?: number; flags?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: opts.flags ?? dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as RecordType, class: 'IN' }],
    ...(opts.edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, flags: 0 } as Answer] } : {}),
  });
}

function ask(name: string, type: RecordType | 'ANY', transport: 'udp' | 'tcp' = 'udp', z = zone, opts: { edns?: number } = {}): DecodedPacket & { rcode: string } {
  const out = respond(z, query(name, type, opts), transport);
  if (!out) throw new Error('no reply');
  return dnsPacket.decode(out) as DecodedPacket & { rcode: string };
}

const data = (p: DecodedPacket, type?: string) => (p.answers ?? []).filter((a) => !type || a.type === type).map((a) => (a as { data: unknown }).data);

t.test('a ClusterIP service: A is its ClusterIP, authoritative, TTL 5 s, echoing the id and question', async (t) => {
  const r = ask('web.default.svc.cluster.local', 'A');
  t.equal(r.rcode, 'NOERROR');
  t.equal(r.id, 4242);
  t.ok(r.flag_aa, 'authoritative');
  t.ok(r.flag_rd, 'RD copied from the query');
  t.notOk(r.flag_ra, 'no recursion offered');
  t.same(r.questions, [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN' }]);
  t.same(data(r), ['127.100.0.20']);
  t.equal((r.answers![0] as { ttl?: number }).ttl, DNS_TTL);
  t.same(data(ask('api.prod.svc.cluster.local', 'A')), ['127.100.0.30'], 'another namespace');
  t.same(data(ask('web.default.svc.cluster.local.', 'A')), ['127.100.0.20'], 'trailing dot');
});

t.test('names are case-insensitive, and answered in the case the client used', async (t) => {
  const r = ask('WeB.Default.SVC.cluster.LOCAL', 'A');
  t.same(data(r), ['127.100.0.20']);
  t.equal(r.answers![0].name, 'WeB.Default.SVC.cluster.LOCAL');
});

t.test('SRV for each named port of a ClusterIP service, with the target A as an additional', async (t) => {
  const r = ask('_http._tcp.web.default.svc.cluster.local', 'SRV');
  t.same(data(r), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
  t.same((r.additionals ?? []).map((a) => [a.name, a.type, (a as any).data]), [['web.default.svc.cluster.local', 'A', '127.100.0.20']]);
  t.same(data(ask('_dns._udp.web.default.svc.cluster.local', 'SRV')), [{ priority: 0, weight: 100, port: 53, target: 'web.default.svc.cluster.local' }], 'UDP port under _udp');
  t.equal(ask('_dns._tcp.web.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN', 'no TCP port named dns');
  t.equal(ask('_http._tcp.web.default.svc.cluster.local', 'A').rcode, 'NOERROR', 'the SRV name exists: NODATA for A');
  t.equal(ask('_http._tcp.web.default.svc.cluster.local', 'A').answers?.length, 0);
});

t.test('a headless service: one A per ready endpoint (not-ready ones left out); endpoints by hostname or dashed IP', async (t) => {
  const r = ask('db.default.svc.cluster.local', 'A');
  t.same(data(r).sort(), ['127.64.0.5', '127.64.1.7']);
  t.same(data(ask('db-0.db.default.svc.cluster.local', 'A')), ['127.64.1.7'], 'endpoint hostname');
  t.same(data(ask('127-64-0-5.db.default.svc.cluster.local', 'A')), ['127.64.0.5'], 'endpoint without hostname: dashed address');
  t.equal(ask('127-64-0-9.db.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'a not-ready endpoint has no name');
});

t.test('a headless service: SRV per endpoint with the endpoint port, targets resolvable in the additionals', async (t) => {
  const r = ask('_pg._tcp.db.default.svc.cluster.local', 'SRV');
  const srv = data(r) as Array<{ port: number; target: string; weight: number }>;
  t.same(srv.map((s) => [s.port, s.target]).sort(), [[5433, '127-64-0-5.db.default.svc.cluster.local'], [5433, 'db-0.db.default.svc.cluster.local']]);
  t.same(srv.map((s) => s.weight), [50, 50]);
  t.same((r.additionals ?? []).map((a) => (a as any).data).sort(), ['127.64.0.5', '127.64.1.7']);
});

t.test('a headless service without ready endpoints exists (NODATA with the SOA), its unknown children do not', async (t) => {
  const r = ask('empty.default.svc.cluster.local', 'A');
  t.equal(r.rcode, 'NOERROR');
  t.same(r.answers, []);
  t.equal(r.authorities?.[0]?.type, 'SOA');
  t.equal(ask('x.empty.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
});

t.test('ExternalName: a CNAME; followed inside the zone, left to the client outside it', async (t) => {
  const ext = ask('ext.default.svc.cluster.local', 'A');
  t.equal(ext.rcode, 'NOERROR');
  t.same(ext.answers!.map((a) => [a.type, (a as any).data]), [['CNAME', 'example.com']]);
  const alias = ask('alias.default.svc.cluster.local', 'A');
  t.same(alias.answers!.map((a) => [a.type, (a as any).data]), [['CNAME', 'web.default.svc.cluster.local'], ['A', '127.100.0.20']]);
  t.same(data(ask('ext.default.svc.cluster.local', 'CNAME')), ['example.com'], 'CNAME asked: the CNAME alone');
});

t.test('pods: 1-2-3-4.ns.pod.<domain> for pods with that IP in that namespace (verified), not finished pods', async (t) => {
  t.same(data(ask('127-64-0-5.default.pod.cluster.local', 'A')), ['127.64.0.5']);
  t.same(data(ask('127-64-3-3.prod.pod.cluster.local', 'A')), ['127.64.3.3']);
  t.equal(ask('127-64-3-3.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN', 'wrong namespace');
  t.equal(ask('127-64-0-77.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN', 'a Succeeded pod');
  t.equal(ask('127-64-9-9.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN', 'no such pod');
});

t.test('unknown names in the domain: NXDOMAIN with the SOA; names above records: NODATA', async (t) => {
  const r = ask('nope.default.svc.cluster.local', 'A');
  t.equal(r.rcode, 'NXDOMAIN');
  t.ok(r.flag_aa);
  t.same(r.answers, []);
  const soa = r.authorities?.[0] as any;
  t.equal(soa.type, 'SOA');
  t.equal(soa.name, 'cluster.local');
  t.equal(soa.data.mname, 'ns.dns.cluster.local');
  t.equal(soa.data.minimum, DNS_TTL);
  for (const name of ['default.svc.cluster.local', 'svc.cluster.local', 'pod.cluster.local', 'default.pod.cluster.local']) {
    const n = ask(name, 'A');
    t.equal(n.rcode, 'NOERROR', `${name} exists`);
    t.same(n.answers, []);
  }
  t.equal(ask('web.nope.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'a namespace without services');
  t.equal(ask('web.default.svc.cluster.local', 'AAAA').rcode, 'NOERROR', 'AAAA of a service: NODATA (IPv4 only)');
  t.same(ask('web.default.svc.cluster.local', 'AAAA').answers, []);
});

t.test('the apex: SOA and NS, the NS name resolving to the kube-dns ClusterIP', async (t) => {
  t.equal(data(ask('cluster.local', 'SOA')).length, 1);
  const ns = ask('cluster.local', 'NS');
  t.same(data(ns), ['ns.dns.cluster.local']);
  t.same((ns.additionals ?? []).map((a) => (a as any).data), ['127.100.0.10']);
  t.same(data(ask('ns.dns.cluster.local', 'A')), ['127.100.0.10']);
});

t.test('ANY returns every record of the name', async (t) => {
  t.same(ask('web.default.svc.cluster.local', 'ANY').answers!.map((a) => a.type), ['A']);
  t.same(ask('cluster.local', 'ANY').answers!.map((a) => a.type).sort(), ['NS', 'SOA']);
});

t.test('names outside the cluster domain are REFUSED, not authoritative, without records', async (t) => {
  for (const name of ['example.com', 'localhost', 'local', 'xcluster.local', '5.0.64.127.in-addr.arpa']) {
    const r = ask(name, 'A');
    t.equal(r.rcode, 'REFUSED', name);
    t.notOk(r.flag_aa);
    t.same(r.answers, []);
  }
  const other = buildZone({ ...base, domain: 'kube.test' });
  t.equal(ask('web.default.svc.cluster.local', 'A', 'udp', other).rcode, 'REFUSED', 'another cluster domain');
  t.same(data(ask('web.default.svc.kube.test', 'A', 'udp', other)), ['127.100.0.20']);
});

t.test('bad messages: FORMERR with the id for garbage, nothing for a response or a short packet, NOTIMP for other opcodes', async (t) => {
  const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff]);
  const r = dnsPacket.decode(respond(zone, garbage, 'udp')!) as any;
  t.equal(r.id, 0x1234);
  t.equal(r.rcode, 'FORMERR');
  t.equal(r.type, 'response');
  t.equal(respond(zone, Buffer.from('hello'), 'udp'), undefined, 'shorter than a header: dropped');
  const response = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'web.default.svc.cluster.local', type: 'A' }] });
  t.equal(respond(zone, response, 'udp'), undefined, 'a response is never answered');
  const two = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'a.cluster.local', type: 'A' }, { name: 'b.cluster.local', type: 'A' }] });
  t.equal((dnsPacket.decode(respond(zone, two, 'udp')!) as any).rcode, 'FORMERR', 'two questions');
  const none = dnsPacket.encode({ type: 'query', id: 8, questions: [] });
  t.equal((dnsPacket.decode(respond(zone, none, 'udp')!) as any).rcode, 'FORMERR', 'no question');
  const update = query('web.default.svc.cluster.local', 'A');
  update.writeUInt16BE(update.readUInt16BE(2) | (5 << 11), 2); // opcode UPDATE
  const u = dnsPacket.decode(respond(zone, update, 'udp')!) as any;
  t.equal(u.rcode, 'NOTIMP');
  t.equal(u.opcode, 'UPDATE');
  const replies = new Set<string>();
  t.doesNotThrow(() => {
    for (let i = 0; i < 300; i++) {
      const random = Buffer.from(Array.from({ length: 12 + (i % 40) }, (_, j) => (i * 31 + j * 17) & 0xff));
      random.writeUInt16BE(random.readUInt16BE(2) & 0x7fff, 2); // a query, so it is answered
      const out = respond(zone, random, 'udp');
      replies.add(out ? (dnsPacket.decode(out) as any).rcode : 'none');
    }
  }, '300 byte patterns: none throws');
  t.ok(replies.has('FORMERR'), `garbage is answered with FORMERR (saw ${[...replies].join(', ')})`);
});

t.test('large answers: truncated with TC over UDP (question kept), whole over TCP and with a large EDNS size', async (t) => {
  const many = Array.from({ length: 60 }, (_, i) => ({ ip: `127.64.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  const big = buildZone({ ...base, endpoints: [endpoints('db', many, [{ name: 'pg', port: 5432 }])] });
  const udp = ask('db.default.svc.cluster.local', 'A', 'udp', big);
  t.ok(udp.flag_tc, 'TC set');
  t.same(udp.answers, []);
  t.same(udp.questions?.map((q) => q.name), ['db.default.svc.cluster.local']);
  t.ok(respond(big, query('db.default.svc.cluster.local', 'A'), 'udp')!.length <= UDP_LIMIT);
  const tcp = ask('db.default.svc.cluster.local', 'A', 'tcp', big);
  t.notOk(tcp.flag_tc);
  t.equal(tcp.answers?.length, 60);
  const edns = ask('db.default.svc.cluster.local', 'A', 'udp', big, { edns: 4096 });
  t.notOk(edns.flag_tc, '60 A records fit in 4096 bytes');
  t.equal(edns.answers?.length, 60);
  const opt = edns.additionals?.find((a) => a.type === 'OPT') as any;
  t.equal(opt?.udpPayloadSize, EDNS_PAYLOAD, 'our OPT record offers our payload size');
  const small = ask('web.default.svc.cluster.local', 'A', 'udp', big);
  t.notOk(small.flag_tc, 'small answers are not truncated');
});

t.test('the zone: services without an address, bad IPs and nameless objects are skipped; the serial is the one given', async (t) => {
  const z = buildZone({
    services: [svc('pending', {}), svc('bad', { clusterIP: '999.1.1.1' }), { metadata: { namespace: 'default' }, spec: {} } as Service],
    endpoints: [],
    pods: [pod('weird', 'not-an-ip')],
    serial: 77,
  });
  t.equal(ask('pending.default.svc.cluster.local', 'A', 'udp', z).rcode, 'NXDOMAIN');
  t.equal(ask('bad.default.svc.cluster.local', 'A', 'udp', z).rcode, 'NXDOMAIN');
  t.equal((z.soa.data as any).serial, 77);
  t.equal(ask('ns.dns.cluster.local', 'A', 'udp', z).rcode, 'NXDOMAIN', 'no kube-dns address known: no glue');
});
