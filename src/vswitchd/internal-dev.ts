// src/vswitchd/internal-dev.ts — internal interfaces (a bridge's LOCAL port, type=internal)
// as OVS users expect them: a host device that carries traffic to and from the bridge. Each
// is one end of a veth pair; the datapath attaches to the other end, hidden by its name
// (xsi<hash>): what the host sends out of the device enters the pipeline there, and what the
// pipeline outputs to the port arrives on the device. Its carrier follows its admin state.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { configureLink, createVeth, deleteLink, deleteTap, findLink, getLink, type Link } from '../native/netlink.js';

/** The hidden end of internal device `name`. */
export const internalPeerName = (name: string): string => `xsi${createHash('sha1').update(name).digest('hex').slice(0, 8)}`;

/** The hidden end, when `link` is an internal device we made. */
export async function internalPeer(link: Link): Promise<Link | undefined> {
  if (link.kind !== 'veth') return undefined;
  const peer = await findLink(internalPeerName(link.name));
  return peer && peer.ifindex === link.peerIfindex ? peer : undefined;
}

/** Creates internal device `name` (down, as OVS creates them) and its hidden end (up). */
export async function createInternal(name: string): Promise<{ dev: Link; peer: Link }> {
  const peerName = internalPeerName(name);
  await createVeth(name, peerName);
  try {
    // The hidden end has no addresses of its own to announce into the bridge.
    writeFileSync(`/proc/sys/net/ipv6/conf/${peerName}/disable_ipv6`, '1');
  } catch {
    // No IPv6 on this host.
  }
  await configureLink(peerName, { up: true });
  return { dev: await getLink(name), peer: await getLink(peerName) };
}

/**
 * An existing device named `name` that is ours: an internal pair (its hidden end returned),
 * or a tap an earlier xdpswitch made for an internal port (deleted: internal ports are pairs now).
 */
export async function adoptInternal(link: Link): Promise<{ dev: Link; peer: Link } | 'replaced' | undefined> {
  const peer = await internalPeer(link);
  if (peer) return { dev: link, peer };
  if (link.kind === 'tun') {
    await deleteTap(link.name);
    return 'replaced';
  }
  return undefined;
}

export async function deleteInternal(name: string): Promise<void> {
  await deleteLink(name); // the hidden end goes with it
}
