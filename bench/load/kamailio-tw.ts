import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Command line and run directory for Kamailio 5.6 with bench/kamailio/kamailio-tw.cfg: the shared presence
 * configuration plus TLS, WebSocket (WS and WSS) and digest authentication (auth_db on db_text), each switched on
 * by a define. Used by the transport and trust benchmarks (bench/load/steps/tw-*.ts) and by the browser test's
 * Kamailio mode (test/support/kamailio-ws.ts), so both run the same configuration.
 */

/** The repository root, found upwards from this file: it runs from bench/load (tests, tsx) and dist/bench/load. */
function findRoot(): string {
  let d = import.meta.dirname;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}
const root = findRoot();
export const kamailioTwCfg = resolve(root, 'bench', 'kamailio', 'kamailio-tw.cfg');
/** The shared presence configuration's empty db_text tables (../shared/bench/kamailio, or PISTON_SHARED_DIR). */
const sharedDbText = resolve(process.env.PISTON_SHARED_DIR ?? resolve(root, '..', 'shared'), 'bench', 'kamailio', 'kamailio', 'dbtext');

export interface KamailioDevice {
  username: string;
  password: string;
  /** The realm (and auth_db domain): the watched domain, 127.0.0.1 in the benchmarks and tests. */
  realm: string;
}

export interface KamailioTwLayout {
  /** UDP and TCP SIP port. */
  sipPort: number;
  tlsPort?: number;
  wsPort?: number;
  wssPort?: number;
  /** PEM files, needed for tlsPort and wssPort. */
  certPath?: string;
  keyPath?: string;
  /** With devices, out-of-dialog SUBSCRIBEs are challenged (WITH_AUTH). */
  devices?: KamailioDevice[];
  /** 3 keeps subscriptions in the db_text table (countable); 0 (default) in memory only, as the shared config. */
  subsDbMode?: 0 | 3;
  tcpMax?: number;
  children?: number;
  tcpChildren?: number;
  shmMiB?: number;
  /** Kamailio's memory manager (-x): `tlsf` or `qm`; Debian's default is q_malloc with debugging. */
  memManager?: string;
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/**
 * Writes the db_text tables into `dir/dbtext` (the shared presence tables, plus `subscriber` when there are devices)
 * and returns kamailio's arguments (foreground, logs on stderr, runtime files in `dir`).
 */
export function prepareKamailioTw(dir: string, l: KamailioTwLayout): string[] {
  const db = join(dir, 'dbtext');
  cpSync(sharedDbText, db, { recursive: true });
  chmodSync(db, 0o755);
  for (const f of readdirSync(db)) chmodSync(join(db, f), 0o644);
  const args = [
    '-f', kamailioTwCfg, '-DD', '-E', '-Y', dir,
    '-m', String(l.shmMiB ?? 1024), '-M', '16', '-n', String(l.children ?? 4),
    '-l', `udp:127.0.0.1:${l.sipPort}`, '-l', `tcp:127.0.0.1:${l.sipPort}`,
    '-A', `DBURL="text://${db}"`, '-A', `CTLSOCK="unix:${join(dir, 'ctl')}"`,
    '-A', `TCP_MAX=${l.tcpMax ?? 40000}`, '-A', `TCPCHILDREN=${l.tcpChildren ?? 4}`,
    '-A', `SUBS_DB_MODE=${l.subsDbMode ?? 0}`,
    ...(l.memManager ? ['-x', l.memManager] : []),
  ];
  if (l.tlsPort !== undefined || l.wssPort !== undefined) {
    if (!l.certPath || !l.keyPath) throw new Error('TLS and WSS need certPath and keyPath');
    args.push('-A', 'WITH_TLS', '-A', `TLS_CERT="${l.certPath}"`, '-A', `TLS_KEY="${l.keyPath}"`);
  }
  if (l.tlsPort !== undefined) args.push('-l', `tls:127.0.0.1:${l.tlsPort}`);
  if (l.wsPort !== undefined || l.wssPort !== undefined) {
    args.push('-A', 'WITH_WS', '-A', `WS_PORT=${l.wsPort ?? 0}`, '-A', `WSS_PORT=${l.wssPort ?? 0}`);
    if (l.wsPort !== undefined) args.push('-l', `tcp:127.0.0.1:${l.wsPort}`);
    if (l.wssPort !== undefined) args.push('-l', `tls:127.0.0.1:${l.wssPort}`);
  }
  if (l.devices && l.devices.length > 0) {
    // auth_db's table version in Kamailio 5.6 and its db_text columns: HA1 precomputed (calculate_ha1 off), so the
    // password column holds only a placeholder (db_text refuses an empty one).
    const version = join(db, 'version');
    writeFileSync(version, readFileSync(version, 'utf8').trimEnd() + '\n0:subscriber:7\n');
    const rows = l.devices.map((d, i) =>
      `${i + 1}:${d.username}:${d.realm}:-:${md5(`${d.username}:${d.realm}:${d.password}`)}:${md5(`${d.username}@${d.realm}:${d.realm}:${d.password}`)}`);
    writeFileSync(join(db, 'subscriber'), 'id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) \n' + rows.join('\n') + '\n');
    args.push('-A', 'WITH_AUTH');
  }
  return args;
}

/**
 * Rows of the db_text active_watchers table for one presentity URI (subsDbMode 3 only). db_text keeps its tables in
 * memory: `db_text.dump` writes them to the files first.
 */
export function kamailioWatchers(dir: string, presentityUri: string): number {
  execFileSync('kamcmd', ['-s', `unix:${join(dir, 'ctl')}`, 'db_text.dump'], { stdio: 'ignore', timeout: 5000 });
  const text = readFileSync(join(dir, 'dbtext', 'active_watchers'), 'utf8');
  // db_text escapes ':' inside a value as '\:'; a row is `id:presentity_uri:...`.
  const field = `:${presentityUri.replace(/:/g, '\\:')}:`;
  return text.split('\n').slice(1).filter((l) => l.includes(field)).length;
}
