#!/usr/bin/env node
/**
 * `nslookup` for pods of the process runtime: resolves names the way a pod's libc would with
 * its resolv.conf — read from `$KUBEACT_RESOLV_CONF` (the kubelet's per-pod file; process
 * containers share the host's /etc/resolv.conf, so they cannot use it through libc) or from
 * `--resolv-conf FILE`. Search domains and `ndots` apply as in glibc: a name with fewer dots
 * than ndots is tried with each search domain first, then as it is.
 *   node dist/nodes/dns/lookup.js web            # A records
 *   node dist/nodes/dns/lookup.js -t SRV _http._tcp.web
 * Prints `Server:`, then `Name:`/`Address:` lines like nslookup; exits 1 when nothing is found.
 */
import { readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { parseArgs } from 'node:util';
import { parseResolvConf } from '../worker/resolv-conf.js';

const { values, positionals } = parseArgs({
  options: { type: { type: 'string', short: 't', default: 'A' }, 'resolv-conf': { type: 'string' }, timeout: { type: 'string', default: '2000' } },
  allowPositionals: true,
});

async function main(): Promise<number> {
  const file = values['resolv-conf'] ?? process.env.KUBEACT_RESOLV_CONF ?? '/etc/resolv.conf';
  const conf = parseResolvConf(readFileSync(file, 'utf8'));
  const name = positionals[0];
  if (!name) {
    console.error('usage: lookup [-t A|SRV] NAME');
    return 2;
  }
  const server = conf.nameservers[0];
  if (!server) {
    console.error(`no nameserver in ${file}`);
    return 1;
  }
  const ndots = Number(conf.options.find((o) => o.name === 'ndots')?.value ?? 1);
  const resolver = new Resolver({ timeout: Number(values.timeout), tries: 3 });
  resolver.setServers(conf.nameservers);
  console.log(`Server:\t\t${server}`);
  const absolute = name.endsWith('.');
  const bare = name.replace(/\.$/, '');
  const withSearch = conf.searches.map((d) => `${bare}.${d}`);
  const candidates = absolute ? [bare] : name.split('.').length - 1 >= ndots ? [bare, ...withSearch] : [...withSearch, bare];
  let lastError = 'NXDOMAIN';
  for (const candidate of candidates) {
    try {
      if (values.type?.toUpperCase() === 'SRV') {
        const records = await resolver.resolveSrv(candidate);
        for (const r of records) console.log(`${candidate}\tservice = ${r.priority} ${r.weight} ${r.port} ${r.name}.`);
      } else {
        const addresses = await resolver.resolve4(candidate);
        console.log(`Name:\t${candidate}`);
        for (const a of addresses) console.log(`Address: ${a}`);
      }
      return 0;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      lastError = code;
      if (!['ENOTFOUND', 'ENODATA', 'EREFUSED', 'ESERVFAIL'].includes(code)) break; // timeouts and the like: no point trying further names
    }
  }
  console.log(`** server can't find ${name}: ${lastError === 'ENOTFOUND' ? 'NXDOMAIN' : lastError}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`lookup: ${(e as Error).message}`);
    process.exit(1);
  },
);
