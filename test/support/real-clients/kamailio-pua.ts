import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../server-process.js';
import { UdpPeer, optionsRequest, statusCodes } from '../sip-client.js';
import { clientFixtures } from './client-fixture.js';
import { startClientProcess, type ClientProcess } from './client-process.js';

/**
 * Kamailio 5.6 with fixtures/clients/kamailio-pua/kamailio-pua.cfg: a proxy on a free loopback port whose
 * pua_dialoginfo PUBLISHes the dialog state of every call it relays to the presence server. It runs in the
 * foreground (-DD, logs on stderr with -E) with its own runtime directory, control socket and copy of the db_text
 * tables, so neither a system kamailio service nor another run can interfere.
 */

export interface KamailioPuaOptions {
  serverPort: number;
  /** Where Kamailio sends every INVITE (the test's SIPp callee). */
  calleePort: number;
  hardTimeoutMs?: number;
  /**
   * PUBLISH over TLS to this port of the presence server (its certificate checked against `caPath`); Kamailio's own
   * TLS socket uses `certPath`/`keyPath`.
   */
  tls?: { serverTlsPort: number; certPath: string; keyPath: string; caPath: string };
}

export interface KamailioPua {
  readonly process: ClientProcess;
  readonly port: number;
  readonly dir: string;
  close(): Promise<void>;
}

export async function startKamailioPua(opts: KamailioPuaOptions): Promise<KamailioPua> {
  const dir = mkdtempSync(join(tmpdir(), 'piston-kamailio-'));
  cpSync(join(clientFixtures, 'kamailio-pua', 'dbtext'), join(dir, 'db'), { recursive: true });
  mkdirSync(join(dir, 'run'));
  const port = await freePort();
  const args = [
    '-f', join(clientFixtures, 'kamailio-pua', 'kamailio-pua.cfg'),
    '-DD', '-E',
    '-Y', join(dir, 'run'),
    '-l', `udp:127.0.0.1:${port}`,
    '-l', `tcp:127.0.0.1:${port}`,
    ...(opts.tls
      ? [
          '-l', `tls:127.0.0.1:${await freePort()}`,
          '-A', 'WITH_TLS',
          '-A', `TLS_CERT="${opts.tls.certPath}"`,
          '-A', `TLS_KEY="${opts.tls.keyPath}"`,
          '-A', `TLS_CA="${opts.tls.caPath}"`,
          '-A', `PRESENCE_SERVER="sip:127.0.0.1:${opts.tls.serverTlsPort};transport=tls"`,
        ]
      : ['-A', `PRESENCE_SERVER="sip:127.0.0.1:${opts.serverPort}"`]),
    '-A', `DBURL="text://${join(dir, 'db')}"`,
    '-A', `CTL_SOCK="unix:${join(dir, 'ctl.sock')}"`,
    '-A', `CALLEE_HOSTPORT="127.0.0.1:${opts.calleePort}"`,
  ];
  const proc = startClientProcess('kamailio', 'kamailio', args, { cwd: dir, hardTimeoutMs: opts.hardTimeoutMs ?? 60_000 });
  const close = async (): Promise<void> => {
    await proc.stop(3000);
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when it answers an OPTIONS (the config says 405 to anything but INVITE).
  const deadline = Date.now() + 10_000;
  let ready = false;
  while (!ready && Date.now() < deadline && !proc.hasExited) {
    const peer = await UdpPeer.open();
    await peer.send(optionsRequest({ transport: 'UDP', port: peer.port }), port);
    ready = (await peer.waitFor(1, 300)).some((b) => statusCodes(b.toString()).length > 0);
    await peer.close();
  }
  if (!ready) {
    const out = proc.output();
    await close();
    throw new Error(`kamailio did not answer on 127.0.0.1:${port}:\n${out.slice(-3000)}`);
  }
  return { process: proc, port, dir, close };
}
