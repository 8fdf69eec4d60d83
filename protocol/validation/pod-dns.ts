/**
 * A pod's `dnsConfig`, as kube-apiserver's validatePodDNSConfig words it: `dnsPolicy: None` needs
 * a dnsConfig with a nameserver; at most 3 nameservers, each an IP address; at most 32 search
 * domains of at most 2048 characters together, each an RFC 1123 subdomain (a trailing dot
 * allowed); every option named.
 */
import { isDNS1123Subdomain } from './names.js';
import { asObject, asString, asStringArray, child, index, invalid, objectItems, required, type Causes } from './types.js';

export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIP = (s: string) => IPV4.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));

export function validatePodDNSConfig(errs: Causes, spec: Record<string, unknown>, path: string): void {
  const p = child(path, 'dnsConfig');
  const none = spec.dnsPolicy === 'None';
  if (none && (spec.dnsConfig === undefined || spec.dnsConfig === null)) {
    errs.push(required(p, 'must provide `dnsConfig` when `dnsPolicy` is None'));
    return;
  }
  const config = asObject(errs, spec.dnsConfig, p);
  if (!config) return;
  const np = child(p, 'nameservers');
  const nameservers = asStringArray(errs, config.nameservers, np) ?? [];
  if (none && nameservers.length === 0) errs.push(required(np, 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  if (nameservers.length > MAX_DNS_NAMESERVERS) errs.push(invalid(np, nameservers, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  nameservers.forEach((ns, i) => {
    if (!isIP(ns)) errs.push(invalid(index(np, i), ns, 'must be a valid IP address'));
  });
  const sp = child(p, 'searches');
  const searches = asStringArray(errs, config.searches, sp) ?? [];
  if (searches.length > MAX_DNS_SEARCH_PATHS) errs.push(invalid(sp, searches, `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`));
  if (searches.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) errs.push(invalid(sp, searches, `must not have more than ${MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list`));
  searches.forEach((s, i) => {
    for (const msg of isDNS1123Subdomain(s.replace(/\.$/, ''))) errs.push(invalid(index(sp, i), s, msg));
  });
  for (const [opt, op] of objectItems(errs, config.options, child(p, 'options'))) {
    if (opt.name === undefined || opt.name === null || opt.name === '') errs.push(required(child(op, 'name'), 'Option.Name must not be empty'));
    else asString(errs, opt.name, child(op, 'name'));
    asString(errs, opt.value, child(op, 'value'));
  }
}
