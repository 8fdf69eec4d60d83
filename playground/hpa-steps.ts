/**
 * The playground's HorizontalPodAutoscaler part (Kubernetes' php-apache walkthrough): a
 * Deployment behind a Service, `kubeact autoscale --cpu-percent=50 --min=1 --max=3`, load
 * sent through the ClusterIP until the HPA scaled the Deployment up, then back down once the
 * load stopped (the playground's cluster runs a 1 s HPA sync and a 5 s scale-down window).
 */
import http from 'node:http';
import type { ApiClient } from '../protocol/client.js';
import { check, type Narrator } from './narrator.js';

export interface HpaStepsOptions {
  n: Narrator;
  client: ApiClient;
  kubeact(args: string[], opts?: { expectFail?: boolean }): Promise<string>;
  /** playground/manifests/hpa-php.yaml: the Deployment and its Service. */
  manifest: string;
}

/** Requests on fresh connections (kube-proxy balances per connection) from `workers` loops, until stopped. */
function startLoad(host: string, workers: number): { stop(): Promise<number> } {
  let running = true;
  let answered = 0;
  // 'close' fires exactly once whatever happens (answer, reset, timeout), so a loop never stalls.
  const once = () =>
    new Promise<void>((resolve) => {
      let ok = false;
      const req = http.get({ host, port: 80, path: '/burn', agent: false, timeout: 5000 }, (res) => {
        ok = res.statusCode === 200;
        res.resume();
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => {});
      req.on('close', () => {
        if (ok) answered++;
        // Not served (yet): try again shortly rather than spin.
        setTimeout(resolve, ok ? 0 : 100);
      });
    });
  const loops = Array.from({ length: workers }, async () => {
    while (running) await once();
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return answered;
    },
  };
}

export async function hpaSteps({ n, client, kubeact, manifest }: HpaStepsOptions): Promise<void> {
  await n.step('Autoscale: php-apache behind a Service, and an HPA on 50 % of its CPU request', async () => {
    await kubeact(['apply', '-f', manifest]);
    await client.waitFor('Deployment', 'php-apache', 'default', (d) => d?.status?.availableReplicas === 1, 30_000);
    const out = await kubeact(['autoscale', 'deployment', 'php-apache', '--cpu-percent=50', '--min=1', '--max=3']);
    check(out.includes('horizontalpodautoscaler.autoscaling/php-apache autoscaled'), 'autoscale did not confirm');
    // The kubelet needs two samples before it reports a rate; then the HPA shows the idle figure.
    await client.waitFor('HorizontalPodAutoscaler', 'php-apache', 'default', (h) => h?.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization !== undefined, 30_000);
    await kubeact(['get', 'hpa']);
  });

  const svc = await client.get('Service', 'php-apache', 'default');
  const load = startLoad(svc.spec.clusterIP, 1);
  try {
    await n.step(`Drive load through the ClusterIP ${svc.spec.clusterIP}: the HPA scales the Deployment up`, async () => {
      const scaled = await client.waitFor('Deployment', 'php-apache', 'default', (d) => (d?.spec?.replicas ?? 1) > 1, 60_000);
      n.say(`the HPA set php-apache to ${scaled!.spec.replicas} replicas`);
      await kubeact(['get', 'hpa']);
      await kubeact(['get', 'deployment', 'php-apache']);
    });
  } finally {
    const answered = await load.stop();
    n.say(`load stopped after ${answered} requests`);
  }

  await n.step('The load stopped: after the 5 s scale-down window the HPA scales back to 1', async () => {
    await client.waitFor('Deployment', 'php-apache', 'default', (d) => d?.spec?.replicas === 1, 60_000);
    const out = await kubeact(['describe', 'hpa', 'php-apache']);
    check(/New size: \d; reason: cpu resource utilization \(percentage of request\) above target/.test(out), 'describe hpa does not show the scale-up Event');
    check(/New size: 1; reason: /.test(out), 'describe hpa does not show the scale-down Event');
    await kubeact(['delete', 'hpa,deployment,service', 'php-apache', '--wait=false']);
  });
}
