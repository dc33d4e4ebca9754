// src/vswitchd/appctl.ts — the ovs-appctl commands of the daemon, in OVS's words and
// formats where OVS has them: version, exit, vlog/set and vlog/list, ofproto/list,
// dpif/show, fdb/show, fdb/flush, dpctl/dump-conntrack; dpif/show-upcalls (ours: slow-path packets by reason); and ofproto/trace over the pipeline model.
import { OFPP } from '../../proto/openflow/constants.js';
import { dumpConntrack } from '../ct/dump.js';
import { XdpBridgeDatapath } from '../datapath/xdp-bridge.js';
import { matchToOxm } from '../ofproto/match.js';
import { trace } from '../ofproto/trace.js';
import { VlogSink, type LogSink } from '../ovsdb/vlog.js';
import { DESTINATIONS, ModuleLevels, type Destination, type VlogLevel } from './log.js';
import { UnixctlError, type UnixctlServer } from './unixctl.js';
import type { Vswitchd } from './vswitchd.js';
import { kernelTierLines } from './kernel-tier.js';

export interface AppctlContext {
  vswitchd: Vswitchd;
  sink: LogSink;
  version: string;
  /**
   * Stops the daemon after the reply went out: with `cleanup` as SIGTERM does; without, as
   * OVS's `exit`, leaving the datapath (ports, programs, flows) for the next start to adopt.
   */
  exit(cleanup: boolean): void;
}

const VLOG_LEVELS: Record<string, VlogLevel> = { off: 'OFF', emer: 'EMER', err: 'ERR', warn: 'WARN', info: 'INFO', dbg: 'DBG' };

const formatMac = (mac: bigint): string => mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');

export function registerAppctl(u: UnixctlServer, ctx: AppctlContext): void {
  const bridge = (name: string) => {
    const br = ctx.vswitchd.bridges.get(name);
    if (!br) throw new UnixctlError('no such bridge');
    return br;
  };

  u.register('version', '', 0, 0, () => `ovs-vswitchd (xdpswitch) ${ctx.version}\n`);

  u.register('exit', '[--cleanup]', 0, 1, (args) => {
    if (args[0] !== undefined && args[0] !== '--cleanup') throw new UnixctlError(`unknown option ${args[0]}`);
    setImmediate(() => ctx.exit(args[0] === '--cleanup'));
    return '';
  });

  // vlog/set SPEC...: each SPEC is words separated by ':' or blanks, each a destination
  // (console, syslog, file, any), a level (off, emer, err, warn, info, dbg) or a module
  // (or any), at most one of each; what a SPEC leaves out means all (lib/vlog.c).
  u.register('vlog/set', '{spec | PATTERN:destination:pattern}', 0, 16, (args) => {
    const sink = ctx.sink;
    if (!(sink instanceof ModuleLevels)) throw new UnixctlError('log levels are fixed in this process');
    const specs = args.map((spec) => {
      let module: string | undefined;
      let dest: Destination | undefined;
      let level: VlogLevel | undefined;
      for (const w of spec.split(/[:\s]+/).filter(Boolean)) {
        const lw = w.toLowerCase();
        if (lw === 'pattern') throw new UnixctlError('log patterns are fixed in this process');
        if (lw === 'any') continue;
        const d = (DESTINATIONS as readonly string[]).includes(lw) ? (lw as Destination) : undefined;
        const l = VLOG_LEVELS[lw];
        const m = sink.modules().find((x) => x === lw);
        if (d) {
          if (dest) throw new UnixctlError('cannot specify multiple destinations');
          dest = d;
        } else if (l) {
          if (level) throw new UnixctlError('cannot specify multiple levels');
          level = l;
        } else if (m) {
          if (module) throw new UnixctlError('cannot specify multiple modules');
          module = m;
        } else throw new UnixctlError(`no destination, level, or module "${w}"`);
      }
      return { module, dest, level: level ?? 'DBG' };
    });
    for (const s of specs) sink.set(s.module, s.dest, s.level);
    return '';
  });

  // As lib/vlog.c vlog_get_levels: "%-16s  %4s       %4s       %4s" per module.
  u.register('vlog/list', '', 0, 0, () => {
    const sink = ctx.sink;
    const lines = ['                 console    syslog    file', '                 -------    ------    ------'];
    const fixed = sink instanceof VlogSink ? { console: sink.consoleLevel, syslog: 'OFF', file: sink.fileLevel } : undefined;
    const modules = sink instanceof ModuleLevels ? sink.modules() : ['bridge', 'datapath', 'ovsdb_server', 'rconn', 'xdpswitch'];
    for (const m of modules) {
      const l = sink instanceof ModuleLevels ? sink.get(m) : (fixed ?? { console: 'OFF', syslog: 'OFF', file: 'OFF' });
      lines.push(`${m.padEnd(16)}  ${l.console.padStart(4)}       ${l.syslog.padStart(4)}       ${l.file.padStart(4)}`);
    }
    return lines.join('\n') + '\n';
  });

  u.register('ofproto/list', '', 0, 0, () => [...ctx.vswitchd.bridges.keys()].sort().map((n) => `${n}\n`).join(''));

  u.register('dpif/show', '', 0, 0, () => {
    const out = ['xdp@xdpswitch: hit:0 missed:0'];
    for (const br of [...ctx.vswitchd.bridges.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      out.push(`  ${br.name}:`);
      const ifaces = [...br.ifaces.values()].filter((s) => s.ofport !== -1).sort((a, b) => a.ofport - b.ofport);
      for (const s of ifaces) {
        const type = s.patchPeer ? `patch: peer=${s.patchPeer}` : s.cfg.type || 'system';
        const where = s.patchPeer ? 'none' : `${s.ifindex}`;
        out.push(`    ${s.cfg.name} ${s.portNo === OFPP.LOCAL ? 65534 : s.ofport}/${where}: (${type})`);
      }
    }
    return out.join('\n') + '\n';
  });

  u.register('fdb/show', 'bridge', 1, 1, ([name]) => {
    const br = bridge(name!);
    // NORMAL learns in the fast path too (bpf/lib/normal.h): its MACs join the model's.
    if (br.datapath instanceof XdpBridgeDatapath) br.datapath.syncFdb();
    const now = Date.now();
    const rows = [...br.ofproto.pipeline.fdb].map(([key, e]) => {
      const [vid, mac] = key.split('/');
      return { port: e.port, vid: Number(vid), mac: formatMac(BigInt(mac!)), age: Math.floor((now - e.seen) / 1000) };
    });
    rows.sort((a, b) => a.port - b.port || a.vid - b.vid || (a.mac < b.mac ? -1 : 1));
    const port = (n: number) => (n === OFPP.LOCAL ? 'LOCAL' : String(n));
    return [' port  VLAN  MAC                Age', ...rows.map((r) => `${port(r.port).padStart(5)}  ${String(r.vid).padStart(4)}  ${r.mac}  ${String(r.age).padStart(3)}`)].join('\n') + '\n';
  });

  u.register('fdb/flush', '[bridge]', 0, 1, ([name]) => {
    for (const br of name ? [bridge(name)] : ctx.vswitchd.bridges.values()) {
      br.ofproto.pipeline.fdb.clear();
      if (br.datapath instanceof XdpBridgeDatapath) br.datapath.flushMacs();
    }
    return 'table successfully flushed\n';
  });

  registerTrace(u, ctx.vswitchd);
  u.register('dpctl/dump-conntrack', '[dp] [zone=N]', 0, 2, (args) => dumpConntrack(args, Date.now()));
  // Which packets the XDP/TC tier handed to the slow path, per bridge and reason (xsw_upcall_reason).
  u.register('dpif/show-upcalls', '[bridge]', 0, 1, ([name]) => {
    const out: string[] = [];
    for (const br of name ? [bridge(name)] : [...ctx.vswitchd.bridges.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const dp = br.datapath;
      const reasons = dp instanceof XdpBridgeDatapath ? [...dp.slowPath.byReason].sort(([a], [b]) => (a < b ? -1 : 1)) : [];
      out.push(`${br.name}:`, ...reasons.map(([r, n]) => `  ${r}: ${n}`), ...kernelTierLines(dp));
    }
    return out.join('\n') + '\n';
  });
}

const portName = (n: number): string => (n === OFPP.LOCAL ? 'LOCAL' : n === OFPP.CONTROLLER ? 'CONTROLLER' : String(n));

/**
 * `ofproto/trace BRIDGE in_port=N HEX`: the frame through the pipeline model (src/ofproto
 * trace.ts, counters untouched), what the datapath must reproduce. Only a whole frame in hex
 * is taken, not OVS's flow syntax.
 */
export function registerTrace(u: UnixctlServer, vswitchd: Vswitchd): void {
  u.register('ofproto/trace', 'bridge in_port=PORT packet-hex', 3, 3, ([name, inPort, hex]) => {
    const br = vswitchd.bridges.get(name!);
    if (!br) throw new UnixctlError(`${name}: unknown bridge`);
    const m = /^in_port=(\d+|LOCAL)$/i.exec(inPort!);
    if (!m) throw new UnixctlError(`${inPort}: expected in_port=PORT`);
    const port = /^local$/i.test(m[1]!) ? OFPP.LOCAL : Number(m[1]);
    const clean = hex!.replace(/[\s:]/g, '');
    if (!/^([0-9a-f]{2})+$/i.test(clean) || clean.length < 28) throw new UnixctlError('packet must be an Ethernet frame in hex');
    const frame = Buffer.from(clean, 'hex');
    const r = trace(br.ofproto.pipeline, port, frame, Date.now(), { count: false });
    const out = [`Bridge: ${br.name}`, `Frame: in_port=${portName(port)}, ${frame.length} bytes`, ''];
    for (const e of r.counters.entries) {
      const match = matchToOxm(e.match).map((f) => `${f.field.toLowerCase()}=${String(f.value)}${f.mask !== undefined ? `/${String(f.mask)}` : ''}`).join(',');
      out.push(` table ${e.table_id}: priority=${e.priority}${match ? `,${match}` : ''} cookie=0x${e.cookie.toString(16)}`);
    }
    for (const t of r.counters.missed) out.push(` table ${t}: no match`);
    out.push('');
    const finals = [
      ...r.outputs.map((o) => `output:${portName(o.port)} (${o.frame.length} bytes${o.frame.equals(frame) ? '' : `, ${o.frame.toString('hex')}`})`),
      ...r.packetIns.map((p) => `controller (reason ${p.reason}, table ${p.table_id}, cookie 0x${p.cookie.toString(16)})`),
      ...r.drops.map((d) => `drop: ${d}`),
    ];
    out.push(`Final: ${finals.length ? finals.join('\n       ') : 'drop'}`);
    return out.join('\n') + '\n';
  });
}
