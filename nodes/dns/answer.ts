/**
 * One DNS message in, one out — pure: the zone and the query bytes decide the reply.
 *
 *  - names in the cluster domain are answered authoritatively (AA): the records, CNAMEs
 *    followed inside the zone, the SRV targets' A records as additionals; a name that exists
 *    without records of the type asked is NODATA, an unknown one NXDOMAIN, both with the SOA
 *    in the authority section (negative caching, RFC 2308);
 *  - names outside the domain are REFUSED (kubeact's DNS does not recurse or forward);
 *  - undecodable bytes get FORMERR (when there is a header to answer), responses are never
 *    answered (no loops), opcodes other than QUERY get NOTIMP, several questions FORMERR;
 *  - over UDP a reply larger than the client's limit (512 bytes, or its EDNS payload size) is
 *    cut to the question with TC set, so the client asks again over TCP (where the limit is
 *    the 2-byte length prefix's 65535).
 */
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { canonicalName, inDomain, type Zone, type ZoneRecord } from './zone.js';

export type Transport = 'udp' | 'tcp';

/** RFC 1035's limit for UDP without EDNS. */
export const UDP_LIMIT = 512;
/** What kubeact offers in its own OPT record (the DNS flag day 2020 value). */
export const EDNS_PAYLOAD = 1232;
const MAX_CNAME_HOPS = 8;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const QR = 1 << 15;
const OPCODE_MASK = 0xf << 11;

/** The reply to one message, or undefined when nothing should be sent back. */
export function respond(zone: Zone, raw: Buffer, transport: Transport): Buffer | undefined {
  if (raw.length < 12) return undefined; // not even a header: nothing to answer to
  if (raw.readUInt16BE(2) & QR) return undefined; // a response: never answer one
  let query: DecodedPacket;
  try {
    query = dnsPacket.decode(raw);
  } catch {
    return headerOnly(raw, RCODE.FORMERR);
  }
  const opcode = (raw.readUInt16BE(2) & OPCODE_MASK) >> 11;
  if (opcode !== 0) return headerOnly(raw, RCODE.NOTIMP);
  const questions = query.questions ?? [];
  if (questions.length !== 1) return headerOnly(raw, RCODE.FORMERR);
  const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  const reply = answer(zone, query);
  if (opt) reply.additionals = [...(reply.additionals ?? []), { type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD, flags: 0 } as Answer];
  const bytes = dnsPacket.encode(reply);
  const limit = transport === 'tcp' ? 0xffff : opt ? Math.max(UDP_LIMIT, Math.min(opt.udpPayloadSize ?? UDP_LIMIT, 4096)) : UDP_LIMIT;
  if (bytes.length <= limit) return bytes;
  return dnsPacket.encode({
    ...reply,
    flags: (reply.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
    additionals: (reply.additionals ?? []).filter((a) => a.type === 'OPT'),
  });
}

/** A reply carrying only the header (id, opcode, RD copied) and an error code. */
function headerOnly(raw: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(raw.readUInt16BE(0), 0);
  const flags = raw.readUInt16BE(2);
  out.writeUInt16BE(QR | (flags & OPCODE_MASK) | (flags & dnsPacket.RECURSION_DESIRED) | rcode, 2);
  return out;
}

/** The reply to a decoded query with exactly one question. */
export function answer(zone: Zone, query: DecodedPacket | Packet): Packet {
  const question = query.questions![0];
  const base = {
    id: query.id ?? 0,
    type: 'response' as const,
    questions: [question],
  };
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const asked = canonicalName(question.name);
  const qtype = question.type as string; // dns-packet decodes 255 as 'ANY', which its types leave out
  if (!inDomain(asked, zone.domain) || (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY')) {
    return { ...base, flags: rd | RCODE.REFUSED };
  }
  const answers: ZoneRecord[] = [];
  let current = asked;
  let ended: 'found' | 'nodata' | 'nxdomain' | 'outside' = 'nxdomain';
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    if (!inDomain(current, zone.domain)) {
      ended = 'outside'; // a CNAME out of the zone: the client follows it itself
      break;
    }
    const records = zone.records.get(current) ?? [];
    const cname = records.find((r) => r.type === 'CNAME');
    if (cname && qtype !== 'CNAME' && qtype !== 'ANY') {
      answers.push(cname);
      current = canonicalName(String(cname.data));
      continue;
    }
    const matching = records.filter((r) => qtype === 'ANY' || r.type === qtype);
    answers.push(...matching);
    ended = matching.length ? 'found' : zone.names.has(current) ? 'nodata' : 'nxdomain';
    break;
  }
  // The owner name as the client spelled it (resolvers using 0x20 compare it exactly).
  const spelled = question.name.replace(/\.$/, '');
  const out = answers.map((r) => (r.name === asked ? { ...r, name: spelled } : r)) as Answer[];
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | rd;
  if (ended === 'nodata' || ended === 'nxdomain') {
    return { ...base, flags: flags | (ended === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR), answers: out, authorities: [zone.soa as Answer] };
  }
  return { ...base, flags, answers: out, additionals: glue(zone, answers) };
}

/** A records of the SRV and NS targets inside the zone (so a client needs no second query). */
function glue(zone: Zone, answers: ZoneRecord[]): Answer[] {
  const out: Answer[] = [];
  const seen = new Set<string>();
  for (const r of answers) {
    const target = r.type === 'SRV' ? r.data.target : r.type === 'NS' ? r.data : undefined;
    if (!target || seen.has(target)) continue;
    seen.add(target);
    for (const a of zone.records.get(canonicalName(target)) ?? []) if (a.type === 'A') out.push(a as Answer);
  }
  return out;
}

