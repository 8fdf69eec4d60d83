/** What kube-proxy keeps per service port: its balancer and its counters. */
import { Balancer, type ServicePortRef } from '../../../actors/proxy/index.js';
import { ServiceStats } from './metrics.js';

export class PortState {
  readonly balancer = new Balancer();
  readonly stats: ServiceStats;
  constructor(
    readonly key: string,
    readonly ref: ServicePortRef,
  ) {
    this.stats = new ServiceStats(ref);
  }
}
