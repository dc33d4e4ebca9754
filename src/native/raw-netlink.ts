// Raw bindings of rtnl.cc, ethtool.cc, tap.cc: kernel values as the kernel reports them.
// netlink.ts turns them into typed links, features and events; use that, not these.

/** A link as parsed from one RTM_NEWLINK/RTM_DELLINK message. */
export interface RawLink {
  ifindex: number;
  name: string;
  /** ARPHRD_* (1 = Ethernet). */
  type: number;
  /** IFF_* bits of ifi_flags. */
  flags: number;
  /** IFLA_INFO_KIND ("veth", "tun", "bridge", ...), '' when none. */
  kind: string;
  /** IFLA_INFO_SLAVE_KIND, '' when none. */
  slaveKind: string;
  /** IFLA_ADDRESS bytes (empty when not reported). */
  mac: Buffer;
  mtu: number;
  /** IF_OPER_*, -1 when not reported. */
  operstate: number;
  /** IFLA_CARRIER, -1 when not reported. */
  carrier: number;
  /** IFLA_MASTER ifindex, 0 when none. */
  master: number;
  /** IFLA_LINK: a veth's peer ifindex, 0 when none (its own ifindex for most links). */
  link: number;
  /** IFLA_LINK_NETNSID: the namespace (id as seen from here) of `link`, -1 when here. */
  linkNetnsid: number;
  /** IFLA_XDP_ATTACHED (XDP_ATTACHED_*), -1 when not reported. */
  xdpAttached: number;
  /** IFLA_XDP_PROG_ID, 0 when none or several. */
  xdpProgId: number;
  /** struct rtnl_link_stats64 in host byte order, as long as this kernel sends it. */
  stats64: Buffer;
}

/** One ETH_SS_FEATURES entry with its bits from ETHTOOL_GFEATURES. */
export interface RawFeature {
  name: string;
  available: boolean;
  requested: boolean;
  active: boolean;
  neverChanged: boolean;
}

/**
 * Monitor callback kinds: 0 RTM_NEWLINK (arg: the link), 1 RTM_DELLINK (arg: the link),
 * 2 overrun — the socket overflowed (ENOBUFS), events were lost, re-list (arg: null),
 * 3 socket error (arg: the errno).
 */
export type RawLinkEventKind = 0 | 1 | 2 | 3;

export interface RawLinkMonitor {
  close(): void;
  ref(): void;
  unref(): void;
}

export interface RawNetlink {
  rtnlListLinks(): Promise<RawLink[]>;
  /** By ifindex, or by name when ifindex is 0. */
  rtnlGetLink(ifindex: number, name: string): Promise<RawLink>;
  /** peerNetns: a name under /var/run/netns, '' for this namespace. */
  rtnlCreateVeth(name: string, peerName: string, peerNetns: string): Promise<void>;
  rtnlDeleteLink(ifindex: number, name: string): Promise<void>;
  rtnlSetLink(ifindex: number, name: string, options: { up?: boolean; mtu?: number; mac?: Buffer }): Promise<void>;
  /** rcvbuf: socket receive buffer in bytes (default 4 MiB); events beyond it are an overrun. */
  rtnlMonitor(callback: (kind: RawLinkEventKind, arg: RawLink | number | null) => void, rcvbuf?: number): RawLinkMonitor;

  ethtoolGetFeatures(ifname: string): Promise<RawFeature[]>;
  /** Requests the changes, answers the features as they are afterwards. */
  ethtoolSetFeatures(ifname: string, wanted: Record<string, boolean>): Promise<RawFeature[]>;

  /** Creates a persistent tap; answers its name. */
  tapCreate(name: string): Promise<string>;
  tapDelete(name: string): Promise<void>;
}
