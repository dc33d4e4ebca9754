// test/vswitchd/ssl.test.ts — `ssl:` controllers: `ovs-vsctl set-ssl` names the switch's key,
// certificate and CA; the switch dials the controller over TLS (mutual certificates signed by
// that CA) and the controller speaks OpenFlow through it; a controller whose certificate
// another CA signed is refused, and the Controller row says why.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import { ControllerConnection, listenForSwitches } from '../../src/openflow/index.js';
import { run, waitFor } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { XdpSwitch } from './switch.js';

let sw: XdpSwitch | undefined;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await sw?.close();
  sw = undefined;
});

/** A CA and two certificates it signs (EC keys: quick to make). */
async function pki(dir: string, ca: string, names: string[]): Promise<void> {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(['openssl', 'req', '-x509', ...key, '-keyout', `${dir}/${ca}.key`, '-out', `${dir}/${ca}.crt`, '-subj', `/CN=${ca}`, '-days', '1']);
  for (const n of names) {
    await run(['openssl', 'req', ...key, '-keyout', `${dir}/${n}.key`, '-out', `${dir}/${n}.csr`, '-subj', `/CN=${n}`]);
    await run(['openssl', 'x509', '-req', '-in', `${dir}/${n}.csr`, '-CA', `${dir}/${ca}.crt`, '-CAkey', `${dir}/${ca}.key`, '-CAcreateserial', '-out', `${dir}/${n}.crt`, '-days', '1']);
  }
}

/** A controller behind TLS: the test's TLS server hands each session to an OpenFlow listener. */
async function tlsController(dir: string, name: string, ca: string): Promise<{ port: number; switches: ControllerConnection[] }> {
  const switches: ControllerConnection[] = [];
  const inner = await listenForSwitches(`punix:${dir}/${name}.sock`, (c) => switches.push(c));
  const server = tls.createServer({ key: readFileSync(`${dir}/${name}.key`), cert: readFileSync(`${dir}/${name}.crt`), ca: readFileSync(`${dir}/${ca}.crt`), requestCert: true, rejectUnauthorized: true }, (s) => {
    const u = net.connect(`${dir}/${name}.sock`);
    s.pipe(u);
    u.pipe(s);
    s.on('error', () => u.destroy());
    u.on('error', () => s.destroy());
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const c of switches) c.close();
    return Promise.all([inner.close(), new Promise((r) => server.close(r))]);
  });
  return { port: (server.address() as net.AddressInfo).port, switches };
}

test('ssl: the switch reaches its controller over TLS with the SSL table credentials; a foreign CA is refused', async () => {
  const topo = await Topology.create();
  const dir = topo.dir;
  await pki(dir, 'ca', ['switch', 'ctl']);
  await pki(dir, 'otherca', ['stranger']);
  sw = await XdpSwitch.start(topo);
  const br = topo.name('br');
  expect((await sw.vsctl('add-br', br, '--', 'set-ssl', `${dir}/switch.key`, `${dir}/switch.crt`, `${dir}/ca.crt`)).code).toBe(0);

  const good = await tlsController(dir, 'ctl', 'ca');
  expect((await sw.vsctl('set-controller', br, `ssl:127.0.0.1:${good.port}`)).code).toBe(0);
  await waitFor(() => good.switches.length === 1, 'the switch to connect over TLS', 10_000);
  const [features] = await good.switches[0]!.request({ type: 'FEATURES_REQUEST', xid: 0 });
  expect(features).toMatchObject({ type: 'FEATURES_REPLY', datapath_id: BigInt(`0x${await sw.get('Bridge', br, 'datapath_id')}`) });
  await waitFor(async () => (await sw!.get('Controller', br, 'is_connected')) === 'true', 'is_connected', 5000);

  // A controller whose certificate the switch's CA did not sign never gets a session.
  const bad = await tlsController(dir, 'stranger', 'otherca');
  expect((await sw.vsctl('set-controller', br, `ssl:127.0.0.1:${bad.port}`, '--', 'set', 'Controller', br, 'max_backoff=1000')).code).toBe(0);
  await waitFor(async () => (await sw!.get('Controller', br, 'status')).includes('last_error'), 'the TLS failure in the Controller row', 10_000);
  expect(bad.switches).toHaveLength(0);
  expect(await sw.get('Controller', br, 'is_connected')).toBe('false');

  // pssl: the switch listens; a controller with a certificate of the CA connects over TLS.
  const port = await new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
  expect((await sw.vsctl('set-controller', br, `pssl:${port}:127.0.0.1`)).code).toBe(0);
  const socket = tls.connect({ host: '127.0.0.1', port, key: readFileSync(`${dir}/ctl.key`), cert: readFileSync(`${dir}/ctl.crt`), ca: readFileSync(`${dir}/ca.crt`), checkServerIdentity: () => undefined });
  await new Promise((r, j) => socket.once('secureConnect', r).once('error', j));
  const conn = await ControllerConnection.handshake(socket);
  closers.push(() => conn.close());
  const [desc] = await conn.request({ type: 'FEATURES_REQUEST', xid: 0 });
  expect(desc).toMatchObject({ type: 'FEATURES_REPLY' });
}, 60_000);
