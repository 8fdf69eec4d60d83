/**
 * Helpers of the HPA e2e tests: a Deployment of small HTTP servers behind a Service (a request
 * to /burn burns CPU in the pod, as the php-apache of Kubernetes' HPA walkthrough does), a load
 * generator sending requests through the ClusterIP on fresh connections, and a recorder of
 * every replica count the Deployment and its pods went through (from watch events).
 */
import http from 'node:http';
import type { ApiClient, Watch } from '../../protocol/client.js';
import { assertLoopback } from './proxy.js';

const SERVER = [
  "const http = require('http');",
  'const burnMs = Number(process.env.BURN_MS || 0);',
  'http.createServer((req, res) => {',
  "  if (req.url === '/burn') { const end = Date.now() + burnMs; while (Date.now() < end) {} }",
  "  res.end(process.env.POD_NAME + '\\n');",
  '}).listen(8080, process.env.POD_IP);',
  "process.on('SIGTERM', () => process.exit(0));",
].join('\n');

/** A Deployment (1 replica) of servers that burn `burnMs` of CPU per /burn request, and its Service on port 80. */
export function serverManifests(name: string, opts: { burnMs: number; cpuRequest: string }): object[] {
  const labels = { app: name };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'server',
                image: 'kubeact/host:1.0',
                command: ['node', '-e', SERVER],
                env: [{ name: 'BURN_MS', value: String(opts.burnMs) }],
                ports: [{ containerPort: 8080, name: 'http' }],
                readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
                resources: { requests: { cpu: opts.cpuRequest, memory: '32Mi' } },
              },
            ],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: labels, ports: [{ port: 80, targetPort: 'http' }] } },
  ];
}

export interface Load {
  /** Stops sending; resolves with the counts once every worker finished its request. */
  stop(): Promise<{ ok: number; failed: number }>;
}

/**
 * `workers` loops, each sending GET `path` on a fresh connection (kube-proxy counts a request per
 * connection), then waiting `gapMs` (the pacing of the load, not a synchronisation).
 */
export function startLoad(host: string, port: number, opts: { path: string; workers: number; gapMs: number }): Load {
  assertLoopback(host);
  let running = true;
  let ok = 0;
  let failed = 0;
  // 'close' fires exactly once whatever happens (answer, reset, timeout), so a loop never stalls.
  const once = () =>
    new Promise<void>((resolve) => {
      let answered = false;
      const req = http.request({ host, port, path: opts.path, agent: false, timeout: 5000 }, (res) => {
        answered = res.statusCode === 200;
        res.resume();
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {});
      req.on('close', () => {
        if (answered) ok++;
        else failed++;
        resolve();
      });
      req.end();
    });
  const worker = async () => {
    while (running) {
      await once();
      await new Promise((r) => setTimeout(r, opts.gapMs));
    }
  };
  const workers = Array.from({ length: opts.workers }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return { ok, failed };
    },
  };
}

/** Every spec.replicas the Deployment had and the most live (not terminating) pods seen at once. */
export class ReplicaRecorder {
  readonly specReplicas: number[] = [];
  maxLivePods = 0;
  private readonly pods = new Map<string, boolean>();
  private readonly watches: Watch[] = [];

  static async start(client: ApiClient, name: string): Promise<ReplicaRecorder> {
    const r = new ReplicaRecorder();
    r.watches.push(await client.watch('Deployment', { namespace: 'default', fieldSelector: `metadata.name=${name}` }, (ev) => r.specReplicas.push(ev.object.spec?.replicas)));
    r.watches.push(
      await client.watch('Pod', { namespace: 'default', labelSelector: `app=${name}` }, (ev) => {
        if (ev.type === 'DELETED') r.pods.delete(ev.object.metadata!.name!);
        else r.pods.set(ev.object.metadata!.name!, !ev.object.metadata?.deletionTimestamp);
        r.maxLivePods = Math.max(r.maxLivePods, [...r.pods.values()].filter(Boolean).length);
      }),
    );
    return r;
  }

  stop(): void {
    for (const w of this.watches) w.stop();
  }
}
