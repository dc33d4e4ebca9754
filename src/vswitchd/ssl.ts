// src/vswitchd/ssl.ts — `ssl:` and `pssl:` Controller targets: TLS with the SSL table's
// private key, certificate and CA certificate (PEM files, as OVS reads them; the peer must
// present a certificate the CA signed, host names are not checked, as in OVS). The TLS leg
// is spliced to a private unix socket that the OpenFlow endpoint dials or listens on, so the
// endpoint itself only ever sees a plain stream.
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { SslConfig } from './config.js';

/** A splice in place: `target` is what the endpoint connects to or listens on. */
export interface SslSplice {
  target: string;
  close(): Promise<void>;
}

const OFP_TCP_PORT = 6653;

function credentials(cfg: SslConfig | undefined): tls.SecureContextOptions {
  if (!cfg || !cfg.privateKey || !cfg.certificate || !cfg.caCert) throw new Error('SSL target requires the SSL table (ovs-vsctl set-ssl PRIVKEY CERT CACERT)');
  return { key: readFileSync(cfg.privateKey), cert: readFileSync(cfg.certificate), ca: readFileSync(cfg.caCert) };
}

/** ssl:IP[:PORT] → host and port; pssl:[PORT][:IP] → port and bind address. */
export function parseSslTarget(target: string): { passive: boolean; host: string; port: number } {
  const active = /^ssl:(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target);
  if (active) return { passive: false, host: active[1]!.replace(/^\[|\]$/g, ''), port: active[2] ? Number(active[2]) : OFP_TCP_PORT };
  const passive = /^pssl:(\d*)(?::(.+))?$/.exec(target);
  if (passive) return { passive: true, host: (passive[2] ?? '0.0.0.0').replace(/^\[|\]$/g, ''), port: passive[1] ? Number(passive[1]) : OFP_TCP_PORT };
  throw new Error(`${target}: expected ssl:IP[:PORT] or pssl:[PORT][:IP]`);
}

function splice(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.once('close', end);
  b.once('close', end);
  a.once('error', end);
  b.once('error', end);
}

/**
 * Starts the splice for `target` at unix socket `sock`: for ssl:, each connection the
 * endpoint makes to `sock` is carried over a new TLS connection to the controller (a TLS
 * failure closes it, and the endpoint backs off as for any failed connection); for pssl:, each
 * TLS connection accepted is carried to the endpoint listening on `sock`.
 */
export async function startSsl(target: string, cfg: SslConfig | undefined, sock: string, onError: (why: string) => void): Promise<SslSplice> {
  const t = parseSslTarget(target);
  const creds = credentials(cfg);
  rmSync(sock, { force: true });
  if (!t.passive) {
    const server = net.createServer((plain) => {
      const secure = tls.connect({ host: t.host, port: t.port, ...creds, checkServerIdentity: () => undefined });
      secure.once('secureConnect', () => splice(plain, secure));
      secure.once('error', (e) => {
        onError(`${target}: ${e.message}`);
        plain.destroy();
      });
    });
    await new Promise<void>((res) => server.listen(sock, res));
    return { target: `unix:${sock}`, close: () => new Promise((res) => server.close(() => res())) };
  }
  const server = tls.createServer({ ...creds, requestCert: true, rejectUnauthorized: true }, (secure) => splice(secure, net.connect(sock)));
  server.on('tlsClientError', (e) => onError(`${target}: ${e.message}`));
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(t.port, t.host, res);
  });
  return { target: `punix:${sock}`, close: () => new Promise((res) => server.close(() => res())) };
}
