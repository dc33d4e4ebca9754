// src/openflow/target.ts — OVS connection target strings: passive `ptcp:PORT[:IP]`,
// `punix:PATH`; active `tcp:IP[:PORT]`, `unix:PATH` (ovs-vsctl set-controller syntax).
import { OFP_TCP_PORT } from '../../proto/openflow/constants.js';

export type Target =
  | { kind: 'ptcp'; port: number; host: string }
  | { kind: 'punix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string };

export function parseTarget(s: string): Target {
  const i = s.indexOf(':');
  const kind = i < 0 ? s : s.slice(0, i);
  const rest = i < 0 ? '' : s.slice(i + 1);
  switch (kind) {
    case 'punix':
    case 'unix':
      if (!rest) throw new Error(`${s}: missing socket path`);
      return { kind, path: rest };
    case 'ptcp': {
      // ptcp:[PORT][:IP]; an IPv6 address is written in brackets.
      const m = /^(\d*)(?::(.+))?$/.exec(rest);
      if (!m) throw new Error(`${s}: expected ptcp:[PORT][:IP]`);
      return { kind, port: m[1] ? port(m[1], s) : OFP_TCP_PORT, host: unbracket(m[2] ?? '0.0.0.0') };
    }
    case 'tcp': {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(rest);
      if (!m) throw new Error(`${s}: expected tcp:IP[:PORT]`);
      return { kind, host: unbracket(m[1]!), port: m[2] ? port(m[2], s) : OFP_TCP_PORT };
    }
    default:
      throw new Error(`${s}: unknown connection method (expected ptcp:, punix:, tcp: or unix:)`);
  }
}

function port(p: string, s: string): number {
  const n = Number(p);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${s}: bad port ${p}`);
  return n;
}

function unbracket(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

export function formatTarget(t: Target): string {
  switch (t.kind) {
    case 'punix':
    case 'unix':
      return `${t.kind}:${t.path}`;
    case 'ptcp':
      return `ptcp:${t.port}:${t.host.includes(':') ? `[${t.host}]` : t.host}`;
    case 'tcp':
      return `tcp:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  }
}
