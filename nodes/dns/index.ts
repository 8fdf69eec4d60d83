/** The cluster DNS: zone (pure), answers (pure), sockets, and the control plane's host of them. */
export { buildZone, canonicalName, dashed, DEFAULT_CLUSTER_DOMAIN, DNS_TTL, type Zone, type ZoneInput, type ZoneRecord } from './zone.js';
export { answer, respond, EDNS_PAYLOAD, UDP_LIMIT, RCODE, type Transport } from './answer.js';
export { DnsServer, type DnsServerOptions, type DnsStats } from './server.js';
export { desiredDnsEndpoints, parseDnsListen, reconcileDnsEndpoints, type DnsListen, type DnsEndpointsAction } from './kube-dns-endpoints.js';
export { ClusterDns, type ClusterDnsOptions } from './cluster-dns.js';
