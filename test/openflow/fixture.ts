// test/openflow/fixture.ts — style.md's codec fixture: decode(bytes) = message,
// encode(message) = bytes, and the stream split at every offset still yields it.
import { expect, test } from 'vitest';
import { decodeMessage, encodeMessage, OfpError, type Message, type OfpErrorName } from '../../proto/openflow/index.js';
import { Framer } from '../../src/openflow/framing.js';

export function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, '').replace(/[^0-9a-fA-F]/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (x) => parseInt(x, 16));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Decodes `bytes` through a framer fed in two pieces split at `at`. */
export function decodeSplit(bytes: Uint8Array, at: number): Array<Message | OfpError> {
  const f = new Framer();
  const frames = [...f.push(bytes.slice(0, at)), ...f.push(bytes.slice(at))];
  return frames.map(decodeMessage);
}

export function fixture(name: string, message: Message, bytes: number[] | Uint8Array): void {
  test(`fixture: ${name}`, () => {
    const b = Uint8Array.from(bytes);
    expect(decodeMessage(b)).toEqual(message);
    expect(toHex(encodeMessage(message))).toBe(toHex(b));
    for (let at = 0; at <= b.length; at++) expect(decodeSplit(b, at)).toEqual([message]);
  });
}

/** A malformed message: decoding gives exactly this error, whatever the split. */
export function malformed(name: string, error: OfpErrorName, bytes: number[] | Uint8Array): void {
  test(`malformed: ${name} -> ${error}`, () => {
    const b = Uint8Array.from(bytes);
    const got = decodeMessage(b);
    expect(got).toBeInstanceOf(OfpError);
    expect((got as OfpError).name).toBe(error);
  });
}
