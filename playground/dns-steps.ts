/**
 * The playground's DNS step: the control plane's DNS server behind the kube-dns Service, and a
 * pod that finds the `web` Service by its short name through the resolv.conf its kubelet wrote
 * (search path + ndots, like libc), asking the kube-dns ClusterIP through kube-proxy.
 */
import type { ApiClient } from '../protocol/client.js';
import type { Pod } from '../protocol/objects.js';
import { entryPoint } from '../nodes/shared/paths.js';
import { check, type Narrator } from './narrator.js';

export interface DnsStepsOptions {
  n: Narrator;
  client: ApiClient;
  kubeact(args: string[], opts?: { expectFail?: boolean }): Promise<string>;
}

export async function dnsSteps({ n, client, kubeact }: DnsStepsOptions): Promise<void> {
  await n.step('Cluster DNS: a pod looks up the web Service by name through the kube-dns ClusterIP', async () => {
    await kubeact(['get', 'service,endpoints', 'kube-dns', '-n', 'kube-system']);
    const web = await client.get('Service', 'web', 'default');
    const dns = await client.get('Service', 'kube-dns', 'kube-system');
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'dns-lookup', namespace: 'default' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'lookup', image: 'busybox', command: [process.execPath, entryPoint('nodes/dns/lookup.js'), 'web'] }] },
    });
    const done = await client.waitFor<Pod>('Pod', 'dns-lookup', 'default', (p) => ['Succeeded', 'Failed'].includes(p?.status?.phase ?? ''), 30_000);
    const out = await kubeact(['logs', 'dns-lookup']);
    check(done?.status?.phase === 'Succeeded', `the lookup pod ended ${done?.status?.phase}`);
    check(out.includes(`Server:\t\t${dns.spec.clusterIP}`), 'the pod did not ask the kube-dns ClusterIP');
    check(out.includes('Name:\tweb.default.svc.cluster.local') && out.includes(`Address: ${web.spec.clusterIP}`), `"web" did not resolve to its ClusterIP ${web.spec.clusterIP}`);
    n.say(`web → web.default.svc.cluster.local → ${web.spec.clusterIP} (search path default.svc.cluster.local, ndots:5)`);
    await kubeact(['delete', 'pod', 'dns-lookup']);
  });
}
