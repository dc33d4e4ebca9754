// proto/openflow/bundle.ts — bundles for OpenFlow 1.3: the ONF extension (EXT-230) that
// `ovs-ofctl -O OpenFlow13 --bundle` speaks, the OF1.4 bundle messages carried as ONF
// experimenter messages (exp_type 2300 control, 2301 add).
import { OfpError } from './errors.js';
import { enumOf, flags, rest, u16, type Codec } from './struct.js';

export const ONFT_BUNDLE_CONTROL = 2300;
export const ONFT_BUNDLE_ADD_MESSAGE = 2301;

/** ofp14_bundle_ctrl_msg.type (OFPBCT_*). */
export const bundleCtrlType = enumOf(
  u16,
  {
    OPEN_REQUEST: 0,
    OPEN_REPLY: 1,
    CLOSE_REQUEST: 2,
    CLOSE_REPLY: 3,
    COMMIT_REQUEST: 4,
    COMMIT_REPLY: 5,
    DISCARD_REQUEST: 6,
    DISCARD_REPLY: 7,
  },
  'OFPBFC_BAD_TYPE',
);
export type BundleCtrlType = keyof typeof bundleCtrlType.values;

/** OFPBF_ATOMIC (1), OFPBF_ORDERED (2); other bits are OFPBFC_BAD_FLAGS. */
export const bundleFlags = flags(u16, { ATOMIC: 1, ORDERED: 2 }, 'OFPBFC_BAD_FLAGS');

/**
 * The OpenFlow message inside BUNDLE_ADD_MESSAGE, kept as its bytes: its own header's
 * length says where it ends; the connection decodes and checks it when it is added.
 */
export const innerMessage: Codec<Uint8Array> = {
  meta: { kind: 'custom', name: 'innerMessage' },
  size: undefined,
  read(r, field) {
    if (r.end - r.pos < 8) throw new OfpError('OFPBFC_MSG_BAD_LEN', { field, why: 'shorter than ofp_header' });
    const len = r.view.getUint16(r.pos + 2);
    if (len < 8 || r.pos + len > r.end) throw new OfpError('OFPBFC_MSG_BAD_LEN', { field, why: `length ${len}` });
    return r.bytes(len);
  },
  write: (w, v) => w.bytes(v),
};

/** Bundle properties (none defined for OF1.3; kept as bytes, padding included). */
export const bundleProperties = rest;
