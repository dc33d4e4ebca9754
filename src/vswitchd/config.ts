// src/vswitchd/config.ts — the configuration the database asks for, read from the
// monitored replica of Open_vSwitch into plain data: what the reconciler compares with
// what runs. Only configuration columns are monitored, so status writes wake nothing.
import type { PortVlan } from '../ofproto/normal.js';
import type { DecodedValue, Monitor, ReplicaRow } from '../ovsdb/client.js';

/** Columns the daemon reads, per table (its monitor request). */
export const CONFIG_COLUMNS = {
  Open_vSwitch: ['bridges', 'next_cfg', 'cur_cfg', 'other_config', 'ssl'],
  Bridge: ['name', 'ports', 'controller', 'fail_mode', 'protocols', 'other_config', 'datapath_type', 'flood_vlans'],
  Port: ['name', 'interfaces', 'tag', 'trunks', 'vlan_mode'],
  // ofport is status, read only as a hint: an interface keeps its number across restarts.
  Interface: ['name', 'type', 'ofport_request', 'ofport', 'other_config', 'options'],
  Controller: ['target', 'connection_mode', 'inactivity_probe', 'max_backoff'],
  SSL: ['private_key', 'certificate', 'ca_cert'],
} as const;

/** The SSL row (`ovs-vsctl set-ssl KEY CERT CA`): PEM file paths, read when a connection is made. */
export interface SslConfig {
  privateKey: string;
  certificate: string;
  caCert: string;
}

export interface InterfaceConfig {
  uuid: string;
  name: string;
  /** '' means system. */
  type: string;
  ofportRequest?: number;
  /** The ofport column as last written (OVS prefers it when there is no request). */
  ofportHint?: number;
  otherConfig: ReadonlyMap<string, string>;
  options: ReadonlyMap<string, string>;
}

export interface PortConfig {
  uuid: string;
  name: string;
  interfaces: InterfaceConfig[];
  /** tag, trunks and vlan_mode for NORMAL; absent: a trunk of every VLAN. */
  vlan?: PortVlan;
}

/** Port tag / trunks / vlan_mode as OVS reads them (vswitch.xml: an empty vlan_mode means
 * access when tag is set, trunk otherwise). */
function portVlan(tag: number | undefined, trunks: number[], mode: string): PortVlan | undefined {
  const m = (mode || (tag !== undefined ? 'access' : 'trunk')) as PortVlan['mode'];
  if (m === 'trunk' && !trunks.length) return undefined;
  return { mode: m, ...(tag !== undefined ? { tag } : {}), ...(trunks.length ? { trunks: [...trunks].sort((a, b) => a - b) } : {}) };
}

export interface ControllerConfig {
  uuid: string;
  target: string;
  connectionMode?: string;
  /**
   * The Controller row's type; OVS's default: active targets (tcp:, unix:, ssl:) are
   * primary controllers, passive ones (ptcp:, punix:, pssl:) service controllers, to
   * which fail_mode does not apply.
   */
  type: 'primary' | 'service';
  /** ms; undefined: the default (5000), 0: disabled. */
  inactivityProbe?: number;
  /** ms. */
  maxBackoff?: number;
  /** ssl: and pssl: targets: the switch's SSL configuration (absent: none set). */
  ssl?: SslConfig;
}

export interface BridgeConfig {
  uuid: string;
  name: string;
  datapathType: string;
  failMode: 'secure' | 'standalone';
  protocols: string[];
  otherConfig: ReadonlyMap<string, string>;
  /** VLANs where NORMAL learns nothing and floods every frame. */
  floodVlans: number[];
  ports: PortConfig[];
  controllers: ControllerConfig[];
}

export interface SwitchConfig {
  /** The Open_vSwitch row, when there is one. */
  root?: { uuid: string; nextCfg: number; curCfg: number };
  bridges: BridgeConfig[];
}

const str = (v: DecodedValue | undefined): string => (typeof v === 'string' ? v : '');
const num = (v: DecodedValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
const list = (v: DecodedValue | undefined): DecodedValue[] => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]);
function smap(v: DecodedValue | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (v instanceof Map) for (const [k, x] of v) out.set(String(k), String(x));
  return out;
}

/** The configuration in the replica now. Rows a reference names but the replica lacks are skipped. */
export function readConfig(m: Monitor): SwitchConfig {
  const ovs = [...m.rows('Open_vSwitch').values()][0];
  const bridgesT = m.rows('Bridge');
  const portsT = m.rows('Port');
  const ifacesT = m.rows('Interface');
  const ctlT = m.rows('Controller');
  const sslRow = ovs ? m.rows('SSL').get(str(list(ovs.ssl)[0])) : undefined;
  const ssl: SslConfig | undefined = sslRow ? { privateKey: str(sslRow.private_key), certificate: str(sslRow.certificate), caCert: str(sslRow.ca_cert) } : undefined;
  const rows = (t: Map<string, ReplicaRow>, refs: DecodedValue | undefined): ReplicaRow[] =>
    list(refs).flatMap((u) => {
      const r = t.get(str(u));
      return r ? [r] : [];
    });
  const bridges: BridgeConfig[] = ovs
    ? rows(bridgesT, ovs.bridges).map((b) => ({
        uuid: b._uuid,
        name: str(b.name),
        datapathType: str(b.datapath_type),
        failMode: str(list(b.fail_mode)[0]) === 'secure' ? 'secure' : 'standalone',
        protocols: list(b.protocols).map(str),
        otherConfig: smap(b.other_config),
        floodVlans: list(b.flood_vlans).flatMap((v) => (typeof v === 'number' ? [v] : [])).sort((x, y) => x - y),
        ports: rows(portsT, b.ports).map((p) => ({
          uuid: p._uuid,
          name: str(p.name),
          vlan: portVlan(num(list(p.tag)[0]), list(p.trunks).flatMap((t) => (typeof t === 'number' ? [t] : [])), str(list(p.vlan_mode)[0])),
          interfaces: rows(ifacesT, p.interfaces).map((i) => {
            const req = num(list(i.ofport_request)[0]);
            const hint = num(list(i.ofport)[0]);
            return { uuid: i._uuid, name: str(i.name), type: str(i.type), otherConfig: smap(i.other_config), options: smap(i.options), ...(req !== undefined ? { ofportRequest: req } : {}), ...(hint !== undefined && hint > 0 ? { ofportHint: hint } : {}) };
          }),
        })),
        controllers: rows(ctlT, b.controller).map((c) => {
          const probe = num(list(c.inactivity_probe)[0]);
          const backoff = num(list(c.max_backoff)[0]);
          const mode = list(c.connection_mode)[0];
          const type = str(list(c.type)[0]);
          return {
            uuid: c._uuid,
            target: str(c.target),
            type: type === 'primary' || type === 'service' ? type : /^p(tcp|unix|ssl):/.test(str(c.target)) ? 'service' : 'primary',
            ...(mode !== undefined ? { connectionMode: str(mode) } : {}),
            ...(probe !== undefined ? { inactivityProbe: probe } : {}),
            ...(backoff !== undefined ? { maxBackoff: backoff } : {}),
            ...(ssl && /^p?ssl:/.test(str(c.target)) ? { ssl } : {}),
          };
        }),
      }))
    : [];
  return {
    ...(ovs ? { root: { uuid: ovs._uuid, nextCfg: num(ovs.next_cfg) ?? 0, curCfg: num(ovs.cur_cfg) ?? 0 } } : {}),
    bridges,
  };
}
