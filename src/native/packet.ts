// Raw frame transmit out of a device, for the slow path and packet-out.
import { native } from './addon.js';

/** Sends `frame` byte for byte out of the device `ifindex` (AF_PACKET). */
export function sendFrame(ifindex: number, frame: Buffer): void {
  native().packetSend(ifindex, frame);
}
