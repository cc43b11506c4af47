import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../server-process.js';
import { writeClientFixture } from './client-fixture.js';
import { startClientProcess, type ClientProcess } from './client-process.js';

/**
 * linphonec 5.1 (liblinphone) run headless from fixtures/clients/linphonec/linphonerc, commands on stdin, with a
 * temporary HOME: liblinphone sends nothing at all unless $HOME/.local/share/linphone exists. Friend status lines
 * on stdout read `Friend "Ext 1002" <sip:1002@127.0.0.1> is On the phone`; -d 6 -l writes the SIP trace to a file.
 */

export interface LinphonecOptions {
  serverPort: number;
  user: string;
  watched: string;
  hardTimeoutMs?: number;
  /** SIP over TLS to `serverPort` (then the server's TLS port), the server's certificate checked against `caFile`. */
  tls?: { caFile: string };
}

export interface Linphonec {
  readonly process: ClientProcess;
  readonly dir: string;
  readonly sipPort: number;
  /** liblinphone's log (-d 6 -l), SIP messages included. */
  log(): string;
  /** `quit` on stdin, then the process' own stop; removes the directory. */
  close(): Promise<void>;
}

export async function startLinphonec(opts: LinphonecOptions): Promise<Linphonec> {
  const dir = mkdtempSync(join(tmpdir(), 'piston-linphonec-'));
  mkdirSync(join(dir, '.local', 'share', 'linphone'), { recursive: true });
  const sipPort = await freePort();
  const rtpPort = await freePort();
  const rc = writeClientFixture(
    'linphonec/linphonerc',
    { SIP_PORT: sipPort, SERVER_PORT: opts.serverPort, RTP_PORT: rtpPort, USER: opts.user, WATCHED: opts.watched },
    dir,
  );
  if (opts.tls) {
    const tlsPort = await freePort();
    // liblinphone: its own TLS port, the CA to check the server's chain with (verify_server_certs), the proxy over
    // TLS. The name check is off: belle-sip's mbedTLS (Debian 12) does not match an IP address subjectAltName, and the
    // test server is reached as 127.0.0.1 (it flags "CN-mismatch" with a certificate that has IP:127.0.0.1).
    const text = readFileSync(rc, 'utf8')
      .replace(/^sip_tls_port=-1$/m, `sip_tls_port=${tlsPort}\nroot_ca=${opts.tls.caFile}\nverify_server_certs=1\nverify_server_cn=0`)
      .replace(/;transport=udp>/, ';transport=tls>');
    writeFileSync(rc, text);
  }
  const logFile = join(dir, 'linphone.log');
  const proc = startClientProcess('linphonec', 'linphonec', ['-c', rc, '-d', '6', '-l', logFile], {
    cwd: dir,
    env: { HOME: dir },
    hardTimeoutMs: opts.hardTimeoutMs ?? 45_000,
    stdin: true,
  });
  return {
    process: proc,
    dir,
    sipPort,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async close() {
      if (!proc.hasExited) {
        proc.write('quit\n');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([proc.exited, new Promise((res) => (timer = setTimeout(res, 3000)))]);
        clearTimeout(timer);
      }
      await proc.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
