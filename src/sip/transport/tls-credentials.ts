import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureVersion, type TLSSocket, type TlsOptions } from 'node:tls';
import type { TlsPeer } from './flow.js';

/**
 * The server's TLS certificate, key and (optional) client-certificate CA, read from PEM files and checked before use:
 * a start with broken files fails with a message naming the file, and a SIGHUP reload with broken files keeps the
 * old context (transports.md §2.1).
 */
export interface TlsCredentials {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Client certificates are asked for and checked against it (security.md §3.3); absent: none asked for. */
  readonly ca?: Buffer;
  /** Lowest protocol version accepted (default TLSv1.2; old phones may need TLSv1, transports.md §2.2). */
  readonly minVersion: SecureVersion;
}

export interface TlsFiles {
  certPath: string;
  keyPath: string;
  caPath?: string | undefined;
  minVersion?: SecureVersion | undefined;
}

export class TlsCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsCredentialsError';
  }
}

/** Reads and checks the files; throws TlsCredentialsError naming the file or the mismatch. */
export function readTlsCredentials(files: TlsFiles): TlsCredentials {
  const cert = readPem(files.certPath, 'certificate');
  const key = readPem(files.keyPath, 'key');
  const ca = files.caPath === undefined ? undefined : readPem(files.caPath, 'CA');
  const credentials: TlsCredentials = { cert, key, minVersion: files.minVersion ?? 'TLSv1.2', ...(ca ? { ca } : {}) };
  checkTlsCredentials(credentials);
  return credentials;
}

/** Builds a secure context from them, which parses the PEMs and checks that key and certificate belong together. */
export function checkTlsCredentials(c: TlsCredentials): void {
  try {
    createSecureContext(secureContextOptions(c));
  } catch (err) {
    throw new TlsCredentialsError(`TLS certificate, key or CA unusable: ${(err as Error).message}`);
  }
}

/** The options of a TLS server (node:tls or https) for these credentials. */
export function tlsServerOptions(c: TlsCredentials, handshakeTimeoutMs: number): TlsOptions {
  return {
    ...secureContextOptions(c),
    // Node's default is 120 s; a silent client must not hold a socket that long (transports.md §2.1).
    handshakeTimeout: handshakeTimeoutMs,
    // Ask for a client certificate only with a CA to check it against; never refuse a phone that has none.
    requestCert: c.ca !== undefined,
    rejectUnauthorized: false,
  };
}

/** What `setSecureContext` takes on reload: certificate, key, CA and version floor. */
export function secureContextOptions(c: TlsCredentials): TlsOptions {
  return { cert: c.cert, key: c.key, minVersion: c.minVersion, ...(c.ca ? { ca: c.ca } : {}) };
}

function readPem(path: string, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new TlsCredentialsError(`TLS ${what} file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!bytes.includes('-----BEGIN')) throw new TlsCredentialsError(`TLS ${what} file ${path} is not PEM`);
  return bytes;
}

/** The client certificate a TLS peer presented, if any (security.md §3.3: trusted peers matched by fingerprint). */
export function tlsPeerOf(socket: TLSSocket): TlsPeer | undefined {
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!cert || !cert.fingerprint256) return undefined;
  return { fingerprint256: cert.fingerprint256, authorized: socket.authorized };
}
