/**
 * A pod's resolv.conf, as the kubelet composes it (pkg/kubelet/network/dns):
 *  - `ClusterFirst` (the default): `nameserver <cluster DNS>`, `search <ns>.svc.<domain>
 *    svc.<domain> <domain>` followed by the host's search domains, `options ndots:5`. Without a
 *    cluster DNS (`--cluster-dns` unset) it falls back to `Default`, as the kubelet does.
 *    `ClusterFirstWithHostNet` is `ClusterFirst`; a hostNetwork pod with `ClusterFirst` gets `Default`.
 *  - `Default`: the node's own resolv.conf (its nameservers, search and options).
 *  - `None`: only what `dnsConfig` gives.
 * `dnsConfig` is then merged in: nameservers appended (at most 3 kept), searches appended
 * (duplicates dropped, at most 32), options merged by name (the pod's value wins).
 */
import type { Pod, PodDNSConfigOption } from 'kubernetes-types/core/v1.js';

export interface DnsSettings {
  /** The kube-dns ClusterIP (`--cluster-dns`); empty/undefined when the cluster has none. */
  clusterDNS?: string;
  clusterDomain: string;
  /** The node's /etc/resolv.conf text (for `Default`, and the extra search domains of `ClusterFirst`). */
  hostResolvConf?: string;
}

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: Array<{ name: string; value?: string }>;
}

export const MAX_NAMESERVERS = 3;
export const MAX_SEARCHES = 32;

/** Parses resolv.conf text (the lines the kubelet reads: nameserver, search/domain, options). */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.nameservers.push(fields[0]);
    else if (key === 'search') out.searches = fields;
    else if (key === 'domain' && fields[0]) out.searches = [fields[0]];
    else if (key === 'options') for (const f of fields) out.options.push(splitOption(f));
  }
  return out;
}

function splitOption(text: string): { name: string; value?: string } {
  const i = text.indexOf(':');
  return i < 0 ? { name: text } : { name: text.slice(0, i), value: text.slice(i + 1) };
}

function dedupe(list: string[]): string[] {
  return [...new Set(list.filter(Boolean))];
}

function mergeOptions(base: ResolvConf['options'], extra: PodDNSConfigOption[] | undefined): ResolvConf['options'] {
  const byName = new Map<string, { name: string; value?: string }>();
  for (const o of base) byName.set(o.name, o);
  for (const o of extra ?? []) if (o?.name) byName.set(o.name, o.value === undefined ? { name: o.name } : { name: o.name, value: o.value });
  return [...byName.values()];
}

/** The effective DNS policy for a pod on this node. */
export function effectiveDnsPolicy(pod: Pod, settings: DnsSettings): 'ClusterFirst' | 'Default' | 'None' {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'None') return 'None';
  if (policy === 'Default') return 'Default';
  if (policy === 'ClusterFirst' && pod.spec?.hostNetwork) return 'Default';
  return settings.clusterDNS ? 'ClusterFirst' : 'Default';
}

export function podResolvConf(pod: Pod, settings: DnsSettings): ResolvConf {
  const host = parseResolvConf(settings.hostResolvConf ?? '');
  const namespace = pod.metadata?.namespace ?? 'default';
  const domain = settings.clusterDomain.replace(/\.$/, '');
  let conf: ResolvConf;
  switch (effectiveDnsPolicy(pod, settings)) {
    case 'None':
      conf = { nameservers: [], searches: [], options: [] };
      break;
    case 'Default':
      conf = host;
      break;
    case 'ClusterFirst':
      conf = {
        nameservers: [settings.clusterDNS!],
        searches: [`${namespace}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches],
        options: [{ name: 'ndots', value: '5' }],
      };
      break;
  }
  const dnsConfig = pod.spec?.dnsConfig;
  return {
    nameservers: dedupe([...conf.nameservers, ...(dnsConfig?.nameservers ?? [])]).slice(0, MAX_NAMESERVERS),
    searches: dedupe([...conf.searches, ...(dnsConfig?.searches ?? [])]).slice(0, MAX_SEARCHES),
    options: mergeOptions(conf.options, dnsConfig?.options),
  };
}

export function formatResolvConf(conf: ResolvConf): string {
  const lines: string[] = [];
  if (conf.searches.length) lines.push(`search ${conf.searches.join(' ')}`);
  for (const ns of conf.nameservers) lines.push(`nameserver ${ns}`);
  if (conf.options.length) lines.push(`options ${conf.options.map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`)).join(' ')}`);
  return lines.join('\n') + '\n';
}
