import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A throw-away self-signed certificate for loopback TLS and WSS (benchmarks and tests), made with openssl: P-256,
 * instant (../shared/docs/transports.md §2.4). Written into a directory the caller owns; never committed.
 */
export interface SelfSigned {
  certPath: string;
  keyPath: string;
}

export function makeSelfSigned(dir: string, commonName = 'localhost'): SelfSigned {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'ignore', timeout: 20_000 });
  return { certPath, keyPath };
}
