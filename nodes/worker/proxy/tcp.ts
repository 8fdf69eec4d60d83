/**
 * One proxied TCP connection: pick an endpoint, connect, splice both ways (half-close
 * preserved). No ready endpoint: the client's connection is reset at once. The chosen
 * endpoint refuses (or does not answer within the connect timeout): the next one is tried,
 * once. The connection to the endpoint is made without binding a source address, so the
 * kernel picks a loopback one (as in kube-proxy's userspace mode, the pod does not see the
 * client's address).
 */
import net from 'node:net';
import { isLoopbackIPv4, startsHttpRequest } from '../../../actors/proxy/index.js';
import type { EndpointStats, ServiceStats } from './metrics.js';
import type { ClientFlow, PolicyGate } from './policy-gate.js';
import type { PortState } from './port-state.js';

/** An open proxied connection, for live byte counts and shutdown. */
export interface Flow {
  svc: ServiceStats;
  ep: EndpointStats;
  client: net.Socket;
  upstream: net.Socket;
}

export interface TcpContext {
  flows: Set<Flow>;
  connectTimeoutMs: number;
  /** NetworkPolicy: a connection its client may not open to the chosen endpoint is reset. */
  gate?: PolicyGate;
}

const ignore = () => {};

export function proxyTcp(client: net.Socket, port: PortState | undefined, ctx: TcpContext): void {
  client.on('error', ignore); // a client reset must never crash the worker
  if (!port || port.balancer.size === 0) {
    if (port) port.stats.rejected++;
    client.resetAndDestroy();
    return;
  }
  const clientIP = client.remoteAddress ?? '';
  const flow: ClientFlow = { protocol: 'TCP', client: { ip: clientIP, port: client.remotePort ?? 0 }, server: { ip: client.localAddress ?? '', port: client.localPort ?? 0 } };
  const tried = new Set<string>();
  const attempt = (): void => {
    const ep = port.balancer.pick(clientIP, Date.now(), tried);
    if (!ep) {
      port.stats.rejected++;
      client.resetAndDestroy();
      return;
    }
    tried.add(ep.key);
    const epStats = port.stats.endpoint(ep);
    if (!isLoopbackIPv4(ep.ip)) {
      // The plan never holds one; never connect outside 127.0.0.0/8 all the same.
      epStats.failures++;
      return retryOrReset();
    }
    if (ctx.gate) {
      const verdict = ctx.gate.check(flow, ep);
      if (!verdict.allowed) {
        // Before any byte is read from the client: nothing reaches the pod.
        port.stats.denied++;
        ctx.gate.logDenied(port.ref, flow, ep, verdict);
        client.resetAndDestroy();
        return;
      }
    }
    const upstream = net.connect({ host: ep.ip, port: ep.port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), ctx.connectTimeoutMs);
    const clientGone = () => {
      clearTimeout(timer);
      upstream.destroy();
    };
    client.once('close', clientGone);
    const failed = () => {
      clearTimeout(timer);
      client.off('close', clientGone);
      epStats.failures++;
      if (!client.destroyed) retryOrReset();
    };
    upstream.once('error', failed);
    upstream.once('connect', () => {
      clearTimeout(timer);
      upstream.off('error', failed);
      client.off('close', clientGone);
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      splice(client, upstream, port.stats, epStats, ctx.flows);
    });
  };
  const retryOrReset = (): void => {
    if (tried.size < 2 && tried.size < port.balancer.size) attempt();
    else {
      port.stats.rejected++;
      client.resetAndDestroy();
    }
  };
  attempt();
}

function splice(client: net.Socket, upstream: net.Socket, svc: ServiceStats, ep: EndpointStats, flows: Set<Flow>): void {
  const flow: Flow = { svc, ep, client, upstream };
  flows.add(flow);
  svc.connectionsTotal++;
  svc.connectionsActive++;
  ep.connectionsTotal++;
  ep.connectionsActive++;
  // Count HTTP/1 requests when the first chunk starts one; otherwise stop looking.
  const count = () => {
    svc.requests++;
    ep.requests++;
  };
  const onMore = (chunk: Buffer) => {
    if (startsHttpRequest(chunk)) count();
  };
  const onFirst = (chunk: Buffer) => {
    client.off('data', onFirst);
    if (!startsHttpRequest(chunk)) return;
    count();
    client.on('data', onMore);
  };
  client.on('data', onFirst);
  upstream.on('error', () => client.resetAndDestroy());
  client.on('error', () => upstream.resetAndDestroy());
  upstream.on('close', (hadError) => {
    if (hadError && !client.destroyed) client.resetAndDestroy();
  });
  client.on('close', (hadError) => {
    flows.delete(flow);
    if (hadError && !upstream.destroyed) upstream.destroy();
    const bytesIn = client.bytesRead;
    const bytesOut = client.bytesWritten;
    svc.connectionsActive--;
    svc.bytesIn += bytesIn;
    svc.bytesOut += bytesOut;
    ep.connectionsActive--;
    ep.bytesIn += bytesIn;
    ep.bytesOut += bytesOut;
    svc.released(ep);
  });
  client.pipe(upstream);
  upstream.pipe(client);
}
