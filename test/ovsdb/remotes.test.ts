// Remotes beyond punix: ptcp, pssl with certificates, active connections named by
// Manager rows (db:Open_vSwitch,Open_vSwitch,manager_options) with their status
// written back, and the inactivity probe, each beside the real ovsdb-server.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run, waitFor } from '../harness/exec.js';
import { startPair, vsctl, type Pair, type Side } from './pair.js';

const SSL = (dir: string, who: string) => [`--private-key=${join(dir, `${who}.key`)}`, `--certificate=${join(dir, `${who}.pem`)}`, `--ca-cert=${join(dir, 'ca.pem')}`];

async function makePki(dir: string): Promise<void> {
  const o = (args: string[]) => run(['openssl', ...args]);
  await o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '1', '-subj', '/CN=test-ca']);
  for (const who of ['server', 'client']) {
    await o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, `${who}.key`), '-out', join(dir, `${who}.csr`), '-subj', `/CN=${who}`]);
    await o(['x509', '-req', '-in', join(dir, `${who}.csr`), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', join(dir, `${who}.pem`), '-days', '1']);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('remotes', () => {
  let pki: string;
  let p: Pair;
  let ports: { ovs: { tcp: number; ssl: number }; xdp: { tcp: number; ssl: number } };

  beforeAll(async () => {
    pki = mkdtempSync(join(tmpdir(), 'xsw-pki-'));
    await makePki(pki);
    ports = {
      ovs: { tcp: await freePort(), ssl: await freePort() },
      xdp: { tcp: await freePort(), ssl: await freePort() },
    };
    // Both servers get the same extra remotes (on their own ports) and the same PKI.
    p = await startPair({
      extraRemotes: [],
      remotes: (side) => [
        `ptcp:${ports[side].tcp}:127.0.0.1`,
        `pssl:${ports[side].ssl}:127.0.0.1`,
        'db:Open_vSwitch,Open_vSwitch,manager_options',
      ],
      ssl: { privateKey: join(pki, 'server.key'), certificate: join(pki, 'server.pem'), caCert: join(pki, 'ca.pem') },
    });
    for (const s of [p.ovs, p.xdp]) await vsctl(s, ['init']);
  });
  afterAll(async () => {
    await p?.stop();
    rmSync(pki, { recursive: true, force: true });
  });

  test('ptcp: ovs-vsctl over TCP', async () => {
    for (const side of ['ovs', 'xdp'] as const) {
      const r = await run(['ovs-vsctl', `--db=tcp:127.0.0.1:${ports[side].tcp}`, '--no-wait', 'add-br', 'tcpbr', '--', 'br-exists', 'tcpbr']);
      expect(r.code).toBe(0);
    }
  });

  test('pssl: ovsdb-client with certificates, and without them refused', async () => {
    const out: string[] = [];
    for (const side of ['ovs', 'xdp'] as const) {
      const ok = await run(['ovsdb-client', ...SSL(pki, 'client'), '--timeout=10', 'list-dbs', `ssl:127.0.0.1:${ports[side].ssl}`], { allowFail: true });
      out.push(`${ok.code}\n${ok.stdout}`);
      // A client certificate not signed by the CA: the handshake fails, the client gives up.
      const bad = await run(['ovsdb-client', ...SSL(pki, 'client').map((a) => a.replace('ca.pem', 'client.pem')), '--timeout=3', 'list-dbs', `ssl:127.0.0.1:${ports[side].ssl}`], { allowFail: true });
      expect(bad.code).not.toBe(0);
    }
    expect(out[1]).toBe(out[0]);
    expect(out[0]).toContain('Open_vSwitch');
  });

  test('an active remote from a Manager row connects out; its status is written back', async () => {
    const out: string[] = [];
    for (const side of ['ovs', 'xdp'] as const) {
      const s: Side = p[side];
      const port = await freePort();
      // ovsdb-client on a passive remote waits for the server to connect to it.
      const child = spawn('ovsdb-client', ['--timeout=20', 'list-dbs', `ptcp:${port}:127.0.0.1`], { env: s.env });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const done = new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
      // Wait for it to listen without connecting (it would serve only that connection).
      await waitFor(async () => (await run(['ss', '-ltnH', `sport = :${port}`])).stdout.includes(`:${port}`), 'ovsdb-client listening');
      await vsctl(s, ['set-manager', `tcp:127.0.0.1:${port}`]);
      expect(await done).toBe(0);
      out.push(stdout);
      await vsctl(s, ['del-manager']);
    }
    expect(out[1]).toBe(out[0]);
    expect(out[0]).toContain('Open_vSwitch');
  });

  test('a passive Manager target reports is_connected and bound_port', async () => {
    const out: string[] = [];
    for (const side of ['ovs', 'xdp'] as const) {
      const s: Side = p[side];
      const port = await freePort();
      await vsctl(s, ['set-manager', `ptcp:${port}:127.0.0.1`]);
      const conn = await waitFor(
        () =>
          new Promise<net.Socket | null>((resolve) => {
            const c = net.connect(port, '127.0.0.1', () => resolve(c));
            c.once('error', () => resolve(null));
          }),
        'manager listener',
      );
      const status = await waitFor(async () => {
        const r = await vsctl(s, ['--columns=is_connected,status', 'list', 'manager']);
        return r.stdout.includes('is_connected        : true') ? r.stdout : null;
      }, 'is_connected', 10000, 250);
      out.push(status.replace(String(port), '<port>'));
      conn.destroy();
      await vsctl(s, ['del-manager']);
    }
    expect(out[1]).toBe(out[0]);
    expect(out[0]).toContain('bound_port="<port>"');
  });

  test('the inactivity probe: an echo after 5 s idle, a disconnect 5 s later', async () => {
    const watch = (port: number) =>
      new Promise<{ echoAt: number; closedAt: number; echo: string }>((resolve) => {
        const t0 = Date.now();
        const sock = net.connect(port, '127.0.0.1');
        let echo = '';
        let echoAt = 0;
        sock.on('data', (d: Buffer) => {
          echo += d.toString();
          echoAt ||= Date.now() - t0;
        });
        sock.on('close', () => resolve({ echoAt, closedAt: Date.now() - t0, echo }));
        sock.on('error', () => undefined);
      });
    const [a, b] = await Promise.all([watch(ports.ovs.tcp), watch(ports.xdp.tcp)]);
    for (const r of [a, b]) {
      expect(JSON.parse(r.echo)).toEqual(JSON.parse(a.echo));
      expect(r.echoAt).toBeGreaterThan(4500);
      expect(r.echoAt).toBeLessThan(6500);
      expect(r.closedAt).toBeGreaterThan(9500);
      expect(r.closedAt).toBeLessThan(11500);
    }
    expect(JSON.parse(a.echo)).toEqual({ id: 'echo', method: 'echo', params: [] });
  }, 30_000);
});
