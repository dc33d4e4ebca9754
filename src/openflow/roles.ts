// src/openflow/roles.ts — what a switch's connections share (§6.3.6): roles (one
// master at most, a generation_id that only moves forward) and the switch config
// flags; plus the per-role async masks' defaults.
import { OfpError } from '../../proto/openflow/errors.js';
import type { ControllerRole } from './handler.js';

export interface RoleHolder {
  role: ControllerRole;
  /** Told when another controller's request took its master role. */
  demoted?(): void;
}

export class Roles {
  /** SET_CONFIG flags (OFPC_FRAG_*): one value for the switch, as OVS keeps it. */
  configFlags = 0;
  /** The last generation_id a MASTER or SLAVE request carried; undefined before any. */
  generationId: bigint | undefined;
  private holders = new Set<RoleHolder>();

  join(c: RoleHolder): void {
    this.holders.add(c);
  }
  leave(c: RoleHolder): void {
    this.holders.delete(c);
  }

  /**
   * Applies a ROLE_REQUEST. A MASTER or SLAVE request whose generation_id is older
   * than the last one seen (as a wrapping 64-bit difference) is OFPRRFC_STALE; a new
   * master turns the previous one into a slave.
   */
  request(c: RoleHolder, role: ControllerRole | 'NOCHANGE', generationId: bigint): OfpError | undefined {
    if (role === 'NOCHANGE') return undefined;
    if (role !== 'EQUAL') {
      if (this.generationId !== undefined && BigInt.asIntN(64, generationId - this.generationId) < 0n) {
        return new OfpError('OFPRRFC_STALE', { why: `generation_id ${generationId} < ${this.generationId}` });
      }
      this.generationId = generationId;
    }
    if (role === 'MASTER') {
      for (const h of this.holders) {
        if (h === c || h.role !== 'MASTER') continue;
        h.role = 'SLAVE';
        h.demoted?.();
      }
    }
    c.role = role;
    return undefined;
  }
}

/** §7.3.10 defaults: [master/equal, slave] masks per async message. */
export function defaultAsyncConfig(): AsyncConfig {
  return {
    packet_in_mask: [0b011, 0], // NO_MATCH, ACTION
    port_status_mask: [0b111, 0b111], // ADD, DELETE, MODIFY
    flow_removed_mask: [0b1111, 0], // IDLE, HARD, DELETE, GROUP_DELETE
  };
}

export interface AsyncConfig {
  packet_in_mask: [number, number];
  port_status_mask: [number, number];
  flow_removed_mask: [number, number];
}
