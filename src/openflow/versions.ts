// src/openflow/versions.ts — the OpenFlow versions this library speaks, and the
// version sets as OVS writes and reads them (the Bridge `protocols` column, HELLO text).

/** OpenFlow 1.0 (0x01) and 1.3 (0x04), as a bitmap of 1 << wire version. */
export const SUPPORTED_VERSIONS = (1 << 0x01) | (1 << 0x04);

const names: Record<string, number> = { OpenFlow10: 1, OpenFlow11: 2, OpenFlow12: 3, OpenFlow13: 4, OpenFlow14: 5, OpenFlow15: 6 };

/**
 * The versions a Bridge's `protocols` column allows, as a bitmap. Empty means OVS's
 * default, every version it knows (OFPUTIL_DEFAULT_VERSIONS: 1.0 to 1.5); of those,
 * this switch speaks 1.0 and 1.3. Unknown names are ignored, as ofputil_versions_from_strings does.
 */
export function versionsFromProtocols(protocols: readonly string[]): number {
  if (!protocols.length) return 0x7e;
  let v = 0;
  for (const p of protocols) v |= names[p] !== undefined ? 1 << names[p] : 0;
  return v;
}

function hex(v: number): string {
  return `0x${v.toString(16).padStart(2, '0')}`;
}

/** As OVS's version_bitmap_to_string: `version 0x04`, `version 0x06 and earlier`, `versions 0x01, 0x04`. */
export function formatVersions(bitmap: number): string {
  if (!bitmap) return 'no versions';
  const top = 31 - Math.clz32(bitmap);
  if ((bitmap & (bitmap - 1)) === 0) return `version ${hex(top)}`;
  if (((bitmap >>> 1) + 1) === 1 << top) return `version ${hex(top)} and earlier`;
  const vs: string[] = [];
  for (let i = 0; i < 32; i++) if ((bitmap >>> i) & 1) vs.push(hex(i));
  return `versions ${vs.join(', ')}`;
}
