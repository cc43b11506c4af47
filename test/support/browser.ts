import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserServer, type Page } from 'playwright-core';
import { freePort, repoRoot } from './server-process.js';

/**
 * A real browser for end-to-end tests (issue 20 item 4, ../shared/docs/transports.md §5): Debian's chromium launched
 * by path through playwright-core (which downloads nothing), headless, as a Playwright browser server on a free
 * loopback port, and stopped by its PID if a polite close does not end it. Plus a page server (node:http) that serves
 * SIP.js's own ESM files from node_modules, unbundled, and a one-file BLF page built on them: the page subscribes to
 * `dialog` for one extension over WS or WSS with a device's credentials and shows the lamp in the DOM.
 */

export const chromiumPath = process.env.PISTON_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumInstalled(): boolean {
  return existsSync(chromiumPath);
}

export interface LaunchedBrowser {
  readonly browser: Browser;
  readonly pid: number;
  readonly wsEndpoint: string;
  /** A fresh context that accepts the test's self-signed certificate (WSS). */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<LaunchedBrowser> {
  const port = await freePort();
  const server: BrowserServer = await chromium.launchServer({
    executablePath: chromiumPath,
    headless: true,
    host: '127.0.0.1',
    port,
    // The test runs as root in CI (no sandbox then); the rest keeps chromium off the network and quiet.
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--ignore-certificate-errors',
    ],
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: 30_000,
  });
  const pid = server.process().pid ?? -1;
  const browser = await chromium.connect(server.wsEndpoint(), { timeout: 15_000 });
  let closed = false;
  return {
    browser,
    pid,
    wsEndpoint: server.wsEndpoint(),
    newContext: () => browser.newContext({ ignoreHTTPSErrors: true }),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.race([browser.close().catch(() => undefined), delay(5000)]);
      await Promise.race([server.close().catch(() => undefined), delay(5000)]);
      // Still there (a hung chromium): stop it by its PID, never by name.
      if (pid > 0 && alive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(res, ms);
    t.unref();
  });
}

/** SIP.js 0.21's `lib/` is plain ESM with relative `.js` imports: served as it is, no build step. */
export const sipJsLib = join(repoRoot, 'node_modules', 'sip.js', 'lib');

export interface PageServer {
  readonly port: number;
  /** The BLF page's address for one watcher. */
  url(p: BlfPageParams): string;
  close(): Promise<void>;
}

export interface BlfPageParams {
  /** `ws://127.0.0.1:5066` or `wss://127.0.0.1:7443`. */
  server: string;
  /** The SIP domain (the account's realm). */
  domain: string;
  /** The device's SIP user name and password (digest). */
  user: string;
  password: string;
  /** The watched extension. */
  target: string;
  expires?: number;
}

export async function servePages(): Promise<PageServer> {
  if (!existsSync(join(sipJsLib, 'index.js'))) throw new Error(`${sipJsLib}/index.js is missing: is the sip.js devDependency installed?`);
  const root = resolve(sipJsLib) + sep;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/' || path === '/blf.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(BLF_PAGE);
      return;
    }
    if (path.startsWith('/sipjs/')) {
      const file = normalize(join(root, path.slice('/sipjs/'.length)));
      if (file.startsWith(root) && file.endsWith('.js') && existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        createReadStream(file).pipe(res);
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  const port = await freePort();
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', () => res());
  });
  return {
    port,
    url(p) {
      const q = new URLSearchParams({
        server: p.server, domain: p.domain, user: p.user, password: p.password, target: p.target,
        expires: String(p.expires ?? 300),
      });
      return `http://127.0.0.1:${port}/blf.html?${q.toString()}`;
    },
    close: () => new Promise<void>((res) => {
      server.closeAllConnections();
      server.close(() => res());
    }),
  };
}

/** The lamp a BLF key shows for a dialog-info document: busy (confirmed), ringing (early/proceeding/trying) or idle. */
export type Lamp = 'idle' | 'ringing' | 'busy';

/**
 * The page: one lamp (`#lamp`, state as text and in `data-state`), the subscription's state (`#subscription`), the
 * number of NOTIFYs (`#notifies`) and any error (`#error`). The dialog-info body is read with DOMParser.
 */
const BLF_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>BLF</title>
<style>#lamp[data-state=idle]{background:#2a2}#lamp[data-state=ringing]{background:#d22}#lamp[data-state=busy]{background:#900}</style>
</head>
<body>
<p>Extension <span id="target"></span>: <span id="lamp" data-state="unknown">unknown</span></p>
<p>subscription: <span id="subscription">none</span>; NOTIFYs: <span id="notifies">0</span></p>
<p id="error"></p>
<script type="module">
import { UserAgent, Subscriber } from '/sipjs/index.js';
const q = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const domain = q.get('domain');
$('target').textContent = q.get('target');
function lampOf(body) {
  if (!body) return 'idle';
  const doc = new DOMParser().parseFromString(body, 'application/xml');
  const states = [...doc.getElementsByTagNameNS('*', 'state')].map((s) => s.textContent.trim().toLowerCase());
  if (states.includes('confirmed')) return 'busy';
  if (states.some((s) => s === 'early' || s === 'proceeding' || s === 'trying')) return 'ringing';
  return 'idle';
}
let notifies = 0;
try {
  const ua = new UserAgent({
    uri: UserAgent.makeURI('sip:' + q.get('user') + '@' + domain),
    transportOptions: { server: q.get('server') },
    authorizationUsername: q.get('user'),
    authorizationPassword: q.get('password'),
    userAgentString: 'piston-browser-test (SIP.js)',
    logLevel: 'warn',
  });
  await ua.start();
  const sub = new Subscriber(ua, UserAgent.makeURI('sip:' + q.get('target') + '@' + domain), 'dialog', { expires: Number(q.get('expires')) });
  sub.stateChange.addListener((s) => { $('subscription').textContent = s; });
  sub.delegate = {
    onNotify(n) {
      n.accept();
      notifies++;
      const lamp = lampOf(n.request.body);
      $('lamp').dataset.state = lamp;
      $('lamp').textContent = lamp;
      $('notifies').textContent = String(notifies);
    },
  };
  await sub.subscribe();
  $('subscription').textContent = sub.state;
} catch (e) {
  $('error').textContent = String(e && e.message || e);
}
</script>
</body>
</html>
`;

export interface LampView {
  lamp: string;
  subscription: string;
  notifies: number;
  error: string;
}

export async function readLamp(page: Page): Promise<LampView> {
  // A string, so this file needs no DOM types: it runs in the page.
  return (await page.evaluate(`(() => {
    const text = (id) => document.getElementById(id)?.textContent ?? '';
    return { lamp: document.getElementById('lamp')?.dataset.state ?? '', subscription: text('subscription'),
      notifies: Number(text('notifies')), error: text('error') };
  })()`)) as LampView;
}

/** Waits until the lamp shows `lamp` (and at least `minNotifies` NOTIFYs arrived); resolves with what the page showed last. */
export async function waitForLamp(page: Page, lamp: Lamp, ms: number, minNotifies = 1): Promise<{ ok: boolean; view: LampView }> {
  const deadline = Date.now() + ms;
  let view = await readLamp(page);
  while (Date.now() < deadline) {
    if (view.lamp === lamp && view.notifies >= minNotifies) return { ok: true, view };
    await delay(100);
    view = await readLamp(page);
  }
  return { ok: view.lamp === lamp && view.notifies >= minNotifies, view };
}
