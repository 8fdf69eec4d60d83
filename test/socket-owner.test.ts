/**
 * The /proc lookup kube-proxy uses to find which process (and pod) holds a client socket:
 * real sockets of this process, real /proc.
 */
import t from 'tap';
import net from 'node:net';
import dgram from 'node:dgram';
import { SocketOwners, podFromEnviron, procAddress } from '../nodes/worker/proxy/socket-owner.js';

t.test('addresses as /proc/net/tcp writes them', async (t) => {
  t.equal(procAddress({ ip: '127.0.0.1', port: 8080 }), '0100007F:1F90');
  t.equal(procAddress({ ip: '127.64.3.2', port: 53 }), '0203407F:0035');
});

t.test('POD_NAMESPACE and POD_NAME from an environ', async (t) => {
  t.same(podFromEnviron('PATH=/bin\0POD_NAME=web-1\0POD_NAMESPACE=prod\0POD_IP=127.64.0.2\0'), { namespace: 'prod', name: 'web-1' });
  t.equal(podFromEnviron('PATH=/bin\0POD_NAME=web-1\0'), undefined, 'both are needed');
  t.equal(podFromEnviron('MY_POD_NAME=x\0POD_NAMESPACE=y\0'), undefined);
});

t.test('the owner of a TCP client socket is found (this process), and not after it closed', async (t) => {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
  const client = { ip: socket.localAddress!, port: socket.localPort! };
  const owners = new SocketOwners();
  t.equal(owners.ownerPid('TCP', client, { ip: '127.0.0.1', port }), String(process.pid));
  if (!process.env.POD_NAME) t.equal(owners.podOf('TCP', client, { ip: '127.0.0.1', port }), undefined, 'this process has no POD_NAME: not a pod');
  t.equal(owners.ownerPid('TCP', client, { ip: '127.0.0.1', port: port === 1 ? 2 : 1 }), undefined, 'the peer must match too');
  socket.destroy();
  await new Promise((r) => socket.once('close', r));
  t.equal(owners.ownerPid('TCP', client, { ip: '127.0.0.1', port }), undefined, 'gone');
});

t.test('the owner of a UDP socket bound to the wildcard address', async (t) => {
  const u = dgram.createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, '0.0.0.0', r));
  t.teardown(() => u.close());
  const port = u.address().port;
  t.equal(new SocketOwners().ownerPid('UDP', { ip: '127.0.0.1', port }, { ip: '127.0.0.1', port: 53 }), String(process.pid));
});
