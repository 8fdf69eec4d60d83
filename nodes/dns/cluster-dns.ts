/**
 * The cluster DNS, hosted by the control plane: the server's sockets, the zone rebuilt from the
 * shared Service/Endpoints/Pod informers whenever one of them changes (changes in one tick are
 * built once), and the kube-dns Endpoints kept pointing at the server (kube-dns-endpoints.ts).
 * Level-based: every change, and a retry after a failed write, re-runs the same reconcile.
 */
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject } from '../../protocol/objects.js';
import { DNS_SERVICE_NAME, DNS_SERVICE_NAMESPACE } from '../apiserver/service-ips.js';
import type { Informer } from '../controllers/informer.js';
import type { Logger } from '../shared/logger.js';
import { reconcileDnsEndpoints, type DnsListen } from './kube-dns-endpoints.js';
import { DnsServer } from './server.js';
import { buildZone, DEFAULT_CLUSTER_DOMAIN, type Zone } from './zone.js';

export interface ClusterDnsOptions {
  client: ApiClient;
  services: Informer<KubeObject>;
  endpoints: Informer<KubeObject>;
  pods: Informer<KubeObject>;
  listen: DnsListen;
  domain?: string;
  logger: Logger;
}

export class ClusterDns {
  private readonly server: DnsServer;
  private zone: Zone;
  private serial = 1;
  private rebuildQueued = false;
  private syncing = false;
  private syncAgain = false;
  private retryTimer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;
  private readonly domain: string;

  constructor(private readonly opts: ClusterDnsOptions) {
    this.domain = opts.domain ?? DEFAULT_CLUSTER_DOMAIN;
    this.zone = buildZone({ domain: this.domain, services: [], endpoints: [], pods: [] });
    this.server = new DnsServer({ host: opts.listen.host, port: opts.listen.port, zone: () => this.zone, logger: opts.logger });
  }

  get address(): DnsListen {
    return this.opts.listen;
  }

  get stats() {
    return this.server.stats;
  }

  /** Call once the informers have listed. */
  async start(): Promise<void> {
    this.rebuild();
    const changed = { upsert: () => this.queueRebuild(), delete: () => this.queueRebuild() };
    this.opts.pods.on(changed);
    this.opts.endpoints.on(changed);
    this.opts.services.on(changed);
    const kubeDns = (o: KubeObject) => o.metadata?.namespace === DNS_SERVICE_NAMESPACE && o.metadata?.name === DNS_SERVICE_NAME;
    const sync = (o: KubeObject) => kubeDns(o) && this.syncEndpoints();
    this.opts.services.on({ upsert: sync, delete: sync });
    this.opts.endpoints.on({ upsert: sync, delete: sync });
    await this.server.start();
    this.opts.logger.info({ listen: `${this.opts.listen.host}:${this.opts.listen.port}`, domain: this.domain }, 'cluster DNS serving');
    this.syncEndpoints();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.server.stop();
  }

  private queueRebuild(): void {
    if (this.rebuildQueued || this.stopped) return;
    this.rebuildQueued = true;
    setImmediate(() => {
      this.rebuildQueued = false;
      this.rebuild();
    });
  }

  private rebuild(): void {
    const services = this.opts.services.list() as Service[];
    const dns = services.find((s) => s.metadata?.namespace === DNS_SERVICE_NAMESPACE && s.metadata?.name === DNS_SERVICE_NAME);
    this.serial = (this.serial % 0xffffffff) + 1;
    this.zone = buildZone({
      domain: this.domain,
      services,
      endpoints: this.opts.endpoints.list() as Endpoints[],
      pods: this.opts.pods.list() as Pod[],
      nameserverIP: dns?.spec?.clusterIP,
      serial: this.serial,
    });
  }

  /** One sync at a time; asked again meanwhile, it runs once more after. */
  private syncEndpoints(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    void this.syncOnce()
      .then(() => {
        this.failures = 0;
      })
      .catch((e) => {
        if (this.stopped) return;
        this.failures++;
        const lostRace = e instanceof ApiError && (e.reason === Reason.Conflict || e.reason === Reason.AlreadyExists || e.reason === Reason.NotFound);
        if (!lostRace) this.opts.logger.warn({ err: (e as Error).message, attempt: this.failures }, 'kube-dns endpoints sync failed');
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.syncEndpoints(), Math.min(5000, 50 * 2 ** Math.min(this.failures, 7)));
      })
      .finally(() => {
        this.syncing = false;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.syncEndpoints();
        }
      });
  }

  private async syncOnce(): Promise<void> {
    const { client, services, endpoints, logger } = this.opts;
    const service = services.get(DNS_SERVICE_NAMESPACE, DNS_SERVICE_NAME) as Service | undefined;
    const current = endpoints.get(DNS_SERVICE_NAMESPACE, DNS_SERVICE_NAME) as Endpoints | undefined;
    const action = reconcileDnsEndpoints(service, current, this.opts.listen);
    switch (action.type) {
      case 'none':
        return;
      case 'dropSelector':
        await client.update(action.service as KubeObject);
        logger.info('kube-dns service made selector-less (its endpoints are the control plane\'s DNS server)');
        return;
      case 'create':
        await client.create(action.endpoints as KubeObject);
        logger.info({ address: `${this.opts.listen.host}:${this.opts.listen.port}` }, 'kube-dns endpoints created');
        return;
      case 'update':
        await client.update(action.endpoints as KubeObject);
        logger.info({ address: `${this.opts.listen.host}:${this.opts.listen.port}` }, 'kube-dns endpoints updated');
        return;
    }
  }
}
