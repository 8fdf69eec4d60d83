/**
 * The kubelet's network probers (nodes/worker/probes.ts) against real sockets on 127.0.0.1:
 * httpGet success and failure by status, a refused connection and a server that never answers
 * (the timeout) in the kubelet's wording, tcpSocket open and refused, and a probe abandoned
 * through its abort signal. Every server is closed at the end.
 */
import t from 'tap';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { RunProbeInput } from '../actors/pod/index.js';
import { probeContainer } from '../nodes/worker/probes.js';
import type { Pod } from '../protocol/objects.js';
import { retry } from './helpers/wait.js';

const placement = { nodeName: 'node-1', podIP: '127.0.0.1', hostIP: '127.0.0.1' };
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'x' }] } } as Pod;
const input = (spec: RunProbeInput['spec']): RunProbeInput => ({ pod, container: 'c', probe: 'readiness', spec, podIP: '127.0.0.1' });

async function listen(server: net.Server): Promise<number> {
  const open = new Set<net.Socket>();
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

/** Waits (with a deadline) until the server saw every probe connection closed. */
const allClosed = () =>
  retry('the server sees the probe connection closed', async () => {
    if (sockets.size) throw new Error(`${sockets.size} still open`);
  }, 5000, 5);

/** A port nothing listens on: taken from a server that is closed again. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const seen: http.IncomingHttpHeaders[] = [];
const web = http.createServer((req, res) => {
  seen.push(req.headers);
  res.statusCode = req.url === '/healthz' ? 200 : req.url === '/moved' ? 302 : 500;
  res.end();
});
// Accepts connections and never answers: the http prober's timeout.
const silent = net.createServer(() => {});
const sockets = new Set<net.Socket>();
silent.on('connection', (s) => {
  s.resume(); // reads (and drops) the request, so the client's close is seen
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

t.test('httpGet: 200..399 succeed, other statuses fail with the kubelet message; headers sent', async (t) => {
  const port = await listen(web);
  t.same(await probeContainer(input({ httpGet: { path: '/healthz', port, httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } }), { placement }), { ok: true, message: '' });
  t.same(await probeContainer(input({ httpGet: { path: 'moved', port } }), { placement }), { ok: true, message: '' }, 'a redirect is success, not followed');
  t.same(await probeContainer(input({ httpGet: { path: '/broken', port } }), { placement }), { ok: false, message: 'HTTP probe failed with statuscode: 500' });
  t.match(seen[0], { 'user-agent': 'kube-probe/1.30', 'x-probe': 'yes' });
});

t.test('httpGet: refused and timed out in Go wording', async (t) => {
  const refused = await closedPort();
  t.same(await probeContainer(input({ httpGet: { path: '/', port: refused } }), { placement }), {
    ok: false,
    message: `Get "http://127.0.0.1:${refused}/": dial tcp 127.0.0.1:${refused}: connect: connection refused`,
  });
  const port = await listen(silent);
  const started = Date.now();
  const res = await probeContainer(input({ httpGet: { path: '/slow', port }, timeoutSeconds: 1 }), { placement });
  t.same(res, { ok: false, message: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
  t.ok(Date.now() - started >= 950, 'after the 1 s timeoutSeconds');
  await allClosed();
  t.pass('the timed-out connection is closed');
});

t.test('tcpSocket: open succeeds, refused fails', async (t) => {
  const port = await listen(net.createServer((s) => s.end()));
  t.same(await probeContainer(input({ tcpSocket: { port } }), { placement }), { ok: true, message: '' });
  const refused = await closedPort();
  t.same(await probeContainer(input({ tcpSocket: { port: refused } }), { placement }), { ok: false, message: `dial tcp 127.0.0.1:${refused}: connect: connection refused` });
});

t.test('an aborted probe rejects with AbortError and closes its connection', async (t) => {
  const port = (silent.address() as AddressInfo).port;
  const abort = new AbortController();
  const probe = probeContainer(input({ httpGet: { path: '/', port }, timeoutSeconds: 30 }), { placement, signal: abort.signal });
  while (sockets.size === 0) await new Promise((r) => setTimeout(r, 5)); // the connection reached the server
  abort.abort();
  await t.rejects(probe, { name: 'AbortError' });
  await allClosed();
  t.pass('the connection is closed');
  await t.rejects(probeContainer(input({ tcpSocket: { port } }), { placement, signal: abort.signal }), { name: 'AbortError' }, 'an already aborted signal: not attempted');
});
