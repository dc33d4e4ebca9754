// test/ofproto/ovs.ts — a real Open vSwitch (ovsdb-server + ovs-vswitchd with its dummy
// datapath, no kernel module, no interfaces) for differential tests of the model: frames
// go in through netdev-dummy/receive and come out in each port's tx pcap. Processes are
// ours, ended by PID; the directory is removed even when the test fails.
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sleep, spawnChild, stopChild, waitFor } from '../harness/exec.js';
import type { Message } from '../../proto/openflow/messages.js';
import { RawClient } from '../openflow/raw-client.js';

export const haveOvs = existsSync('/usr/sbin/ovs-vswitchd') && existsSync('/usr/share/openvswitch/vswitch.ovsschema');

export class OvsBridge {
  private children: ChildProcess[] = [];
  private seen = new Map<number, number>();
  private constructor(
    readonly dir: string,
    readonly ports: number[],
  ) {}

  get env(): NodeJS.ProcessEnv {
    const d = this.dir;
    return { ...process.env, OVS_RUNDIR: d, OVS_DBDIR: d, OVS_LOGDIR: d, OVS_SYSCONFDIR: d };
  }

  /** br0 (datapath_type=dummy, OpenFlow13) with dummy ports numbered `ports`, each capturing to p<N>.pcap. */
  static async start(ports = [1, 2, 3]): Promise<OvsBridge> {
    const b = new OvsBridge(mkdtempSync(join(tmpdir(), 'xsw-ofproto-ovs-')), ports);
    // Lives for a whole file (the harness ends its objects after each test): the exit hook
    // is the backstop, destroy() in afterAll the normal end.
    process.once('exit', () => b.destroySync());
    const d = b.dir;
    await run(['ovsdb-tool', 'create', join(d, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
    b.children.push(spawnChild(['ovsdb-server', `--remote=punix:${d}/db.sock`, `--unixctl=${d}/ovsdb.ctl`, `--log-file=${d}/ovsdb.log`, join(d, 'conf.db')], b.env));
    await waitFor(() => existsSync(join(d, 'db.sock')), 'ovsdb-server socket');
    await b.vsctl('--no-wait', 'init');
    b.children.push(spawnChild(['ovs-vswitchd', '--enable-dummy', '--disable-system', `--unixctl=${d}/vswitchd.ctl`, `--log-file=${d}/vswitchd.log`, `unix:${d}/db.sock`], b.env));
    await waitFor(() => existsSync(join(d, 'vswitchd.ctl')), 'ovs-vswitchd control socket');
    const add = ports.flatMap((n) => ['--', 'add-port', 'br0', `p${n}`, '--', 'set', 'interface', `p${n}`, 'type=dummy', `ofport_request=${n}`, `options:tx_pcap=${d}/p${n}.pcap`]);
    await b.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=dummy', 'protocols=OpenFlow13', 'fail-mode=secure', ...add);
    await waitFor(() => existsSync(join(d, 'br0.mgmt')) && ports.every((n) => existsSync(join(d, `p${n}.pcap`))), 'br0 and its ports');
    return b;
  }

  vsctl(...args: string[]) {
    return run(['ovs-vsctl', `--db=unix:${this.dir}/db.sock`, ...args], { env: this.env });
  }
  appctl(...args: string[]) {
    return run(['ovs-appctl', '-t', `${this.dir}/vswitchd.ctl`, ...args], { env: this.env });
  }
  /** An OpenFlow 1.3 session on br0's management socket. */
  connect(): Promise<RawClient> {
    return RawClient.connect(join(this.dir, 'br0.mgmt'));
  }

  private pcapSize(n: number): number {
    return statSync(join(this.dir, `p${n}.pcap`)).size;
  }

  /** Frames written to port n's pcap since the last call. */
  private take(n: number): Buffer[] {
    const f = readFileSync(join(this.dir, `p${n}.pcap`));
    const out: Buffer[] = [];
    let o = this.seen.get(n) ?? 24; // pcap global header
    while (o + 16 <= f.length) {
      const len = f.readUInt32LE(o + 8);
      if (o + 16 + len > f.length) break;
      out.push(f.subarray(o + 16, o + 16 + len));
      o += 16 + len;
    }
    this.seen.set(n, o);
    return out;
  }

  /** Injects `frame` on port `port` and returns what every port sent, once output has settled. */
  async inject(port: number, frame: Uint8Array): Promise<{ port: number; frame: Buffer }[]> {
    return this.capture(() => this.appctl('netdev-dummy/receive', `p${port}`, Buffer.from(frame).toString('hex')));
  }

  /** Sends a PACKET_OUT on `client` and returns what every port sent. */
  async packetOut(client: RawClient, po: Omit<Extract<Message, { type: 'PACKET_OUT' }>, 'type' | 'xid'>): Promise<{ port: number; frame: Buffer }[]> {
    return this.capture(async () => {
      client.send({ type: 'PACKET_OUT', xid: 77, ...po });
      client.send({ type: 'BARRIER_REQUEST', xid: 78 });
      await client.next('BARRIER_REPLY');
    });
  }

  private async capture(act: () => Promise<unknown>): Promise<{ port: number; frame: Buffer }[]> {
    for (const n of this.ports) this.take(n);
    await act();
    // ovs-vswitchd handles the injected frame on its next main-loop turn, after the
    // appctl reply: settled = no pcap grew over two consecutive 20 ms looks (one look
    // proved too short on a loaded 2-core machine).
    let last = '';
    let still = 0;
    for (let i = 0; i < 30 && still < 2; i++) {
      await sleep(20);
      const now = this.ports.map((n) => this.pcapSize(n)).join(',');
      still = now === last ? still + 1 : 0;
      last = now;
    }
    return this.ports.flatMap((n) => this.take(n).map((f) => ({ port: n, frame: Buffer.from(f) })));
  }

  async destroy(): Promise<void> {
    for (const c of this.children.reverse()) await stopChild(c);
    rmSync(this.dir, { recursive: true, force: true });
  }

  destroySync(): void {
    for (const c of this.children) if (c.pid && c.exitCode === null && c.signalCode === null) execFileSync('kill', [String(c.pid)]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
