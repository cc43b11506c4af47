import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';

/**
 * Certificates for TLS and WSS tests, made by Debian's `openssl` into a temporary directory (transports.md §2.4: an
 * EC P-256 pair is instant); never committed. A CA signs a server certificate (127.0.0.1 and localhost) and a client
 * certificate; a second, self-signed server certificate stands for a renewal or an untrusted server.
 */
export interface TestCert {
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint as Node writes it (`AB:CD:…`). */
  fingerprint256: string;
}

export interface TestPki {
  dir: string;
  ca: TestCert;
  server: TestCert;
  /** Signed by the CA, for mutual TLS. */
  client: TestCert;
  /** Self-signed, another subject: a renewal, or a server nobody trusts. */
  other: TestCert;
  cleanup(): void;
}

const SAN = 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function load(dir: string, name: string): TestCert {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}-key.pem`);
  const cert = readFileSync(certPath);
  return { certPath, keyPath, cert, key: readFileSync(keyPath), fingerprint256: new X509Certificate(cert).fingerprint256 };
}

function keyAndRequest(dir: string, name: string, subject: string): void {
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', subject, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`], dir);
}

function signed(dir: string, name: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'piston-tls-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=Piston Test CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem'], dir);
  keyAndRequest(dir, 'server', '/CN=localhost');
  signed(dir, 'server', SAN);
  keyAndRequest(dir, 'client', '/CN=pbx.example.com');
  signed(dir, 'client', 'extendedKeyUsage=clientAuth');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=renewed', '-addext', SAN, '-keyout', 'other-key.pem', '-out', 'other.pem'], dir);
  return {
    dir,
    ca: load(dir, 'ca'),
    server: load(dir, 'server'),
    client: load(dir, 'client'),
    other: load(dir, 'other'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
