import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../server-process.js';
import { baresipCommand, type BaresipReply } from './baresip-ctrl.js';
import { renderClientFixture, writeClientFixture } from './client-fixture.js';
import { startClientProcess, type ClientProcess } from './client-process.js';

/**
 * baresip 1.0.0 run headless from fixtures/clients/baresip/ in a temporary directory that is also its HOME:
 * SIP trace on stdout (-s), commands through ctrl_tcp. The first account (`user`) SUBSCRIBEs presence for the
 * contact `watched`, if given, about a second after start.
 */

export interface BaresipOptions {
  serverPort: number;
  user: string;
  /** Extension to watch for presence (contacts file); none when omitted. */
  watched?: string;
  /** The SIP password of `user` (auth_pass): baresip then answers the server's digest challenges. */
  password?: string;
  /**
   * SIP over TLS to `serverPort` (then the server's TLS port) for the account and the watched contact, the server's
   * certificate checked against `caFile` (libre's sip_cafile).
   */
  tls?: { caFile: string };
  hardTimeoutMs?: number;
}

export interface Baresip {
  readonly process: ClientProcess;
  readonly dir: string;
  readonly sipPort: number;
  readonly ctrlPort: number;
  command(command: string, params?: string): Promise<BaresipReply>;
  /** Adds the MWI user agent for `mailbox` (fixtures/clients/baresip/mwi-account), registering through `registrarPort`. */
  addMwiAccount(mailbox: string, registrarPort: number): Promise<BaresipReply>;
  /** Polls `contacts` until its text matches, or `ms` pass; returns the last text. */
  waitForContacts(pattern: RegExp, ms: number): Promise<string>;
  /** Quits baresip (ctrl `quit`, then the process' own stop) and removes its directory. */
  close(): Promise<void>;
}

export async function startBaresip(opts: BaresipOptions): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), 'piston-baresip-'));
  const sipPort = await freePort();
  const ctrlPort = await freePort();
  writeClientFixture('baresip/config', { SIP_PORT: sipPort, CTRL_PORT: ctrlPort }, dir);
  writeClientFixture('baresip/accounts', { USER: opts.user, SERVER_PORT: opts.serverPort }, dir);
  if (opts.password !== undefined) {
    const file = join(dir, 'accounts');
    writeFileSync(file, readFileSync(file, 'utf8').replace(';regint=0;', `;regint=0;auth_pass=${opts.password};`));
  }
  if (opts.watched) writeClientFixture('baresip/contacts', { WATCHED: opts.watched, SERVER_PORT: opts.serverPort }, dir);
  else writeFileSync(join(dir, 'contacts'), '# no presence contacts in this run\n');
  if (opts.tls) {
    const edit = (name: string, from: RegExp, to: string): void => {
      const file = join(dir, name);
      writeFileSync(file, readFileSync(file, 'utf8').replace(from, to));
    };
    edit('accounts', /;transport=udp>/, ';transport=tls>');
    if (opts.watched) edit('contacts', new RegExp(`(<sip:${opts.watched}@127\\.0\\.0\\.1:${opts.serverPort})>`), '$1;transport=tls>');
    edit('config', /^(sip_listen[^\n]*\n)/m, `$1sip_cafile\t\t${opts.tls.caFile}\n`);
  }
  mkdirSync(join(dir, 'home'));

  const proc = startClientProcess('baresip', 'baresip', ['-f', dir, '-s'], {
    cwd: dir,
    env: { HOME: join(dir, 'home') },
    hardTimeoutMs: opts.hardTimeoutMs ?? 45_000,
  });
  const command = (cmd: string, params?: string): Promise<BaresipReply> => baresipCommand(ctrlPort, cmd, params);
  const close = async (): Promise<void> => {
    if (!proc.hasExited) {
      try {
        await baresipCommand(ctrlPort, 'quit', undefined, 2000);
      } catch {
        /* not listening any more: stop() below ends it */
      }
      // baresip un-SUBSCRIBEs on quit and waits for the answers: let it exit by itself for a moment before SIGTERM
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([proc.exited, new Promise((res) => (timer = setTimeout(res, 1500)))]);
      clearTimeout(timer);
    }
    await proc.stop(2000);
    rmSync(dir, { recursive: true, force: true });
  };

  const ready = await proc.waitForOutput(/baresip is ready\./, 10_000);
  if (!ready) {
    const out = proc.output();
    await close();
    throw new Error(`baresip did not start:\n${out.slice(-2000)}`);
  }
  return {
    process: proc,
    dir,
    sipPort,
    ctrlPort,
    command,
    addMwiAccount: (mailbox, registrarPort) =>
      command('uanew', renderClientFixture('baresip/mwi-account', { MAILBOX: mailbox, REGISTRAR_PORT: registrarPort }).trim()),
    async waitForContacts(pattern, ms) {
      const deadline = Date.now() + ms;
      let text = '';
      while (Date.now() < deadline && !proc.hasExited) {
        text = (await command('contacts')).data.replace(/\u001b\[[0-9;]*m/g, '');
        if (pattern.test(text)) return text;
        await new Promise((res) => setTimeout(res, 200));
      }
      return text;
    },
    close,
  };
}
