import t from 'tap';
import type { Page } from 'playwright-core';
import { chromiumInstalled, chromiumPath, launchBrowser, servePages, waitForLamp, type LaunchedBrowser, type PageServer } from '../support/browser.js';
import { publishDialog, startBlfTarget, type BlfTarget } from '../support/blf-targets.js';

/**
 * SIP.js 0.21 in a real browser (Debian's chromium, driven by playwright-core) watches a BLF key over WebSocket and
 * secure WebSocket (RFC 7118), authenticating with a device's digest credentials (RFC 3261 §22), and its lamp
 * follows the dialog state a trusted peer PUBLISHes (RFC 3903, RFC 4235). Issue 20 item 4, transports.md W4.
 * Runs against the built server; `PISTON_BROWSER_TARGET=kamailio` runs the same cases against Kamailio 5.6 with
 * bench/kamailio/kamailio-tw.cfg, which proves the harness on a server that already does all of it.
 */

const installed = chromiumInstalled();

t.test(`chromium is installed at ${chromiumPath} (.ci/run installs the chromium package)`, async (t) => {
  t.ok(installed, 'chromium is there');
});

if (installed) {
  const target: BlfTarget = await startBlfTarget();
  t.teardown(() => target.close());
  const browser: LaunchedBrowser = await launchBrowser();
  t.teardown(() => browser.close());
  const pages: PageServer = await servePages();
  t.teardown(() => pages.close());

  /** Opens the BLF page for `extension`; records every SIP status line the page's WebSockets received. */
  const openPage = async (server: string, extension: string): Promise<{ page: Page; statuses: string[]; close(): Promise<void> }> => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const statuses: string[] = [];
    page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => {
        const text = typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8');
        const m = /^SIP\/2\.0 (\d{3})[^\r\n]*\r\n[\s\S]*?CSeq:\s*\d+\s+(\w+)/i.exec(text);
        if (m) statuses.push(`${m[1]} ${m[2]}${/^WWW-Authenticate:/im.test(text) ? ' challenge' : ''}`);
      });
    });
    await page.goto(pages.url({ server, domain: target.domain, user: target.device.user, password: target.device.password, target: extension }));
    return { page, statuses, close: () => context.close() };
  };

  for (const [kind, url, extension] of [['WS', target.wsUrl, '2001'], ['WSS', target.wssUrl, '2002']] as const) {
    t.test(`SIP.js over ${kind} authenticates with the device's digest credentials and its lamp follows PUBLISHed dialog state (RFC 7118, RFC 3261 §22, RFC 4235)`, async (t) => {
      const { page, statuses, close } = await openPage(url, extension);
      t.teardown(close);
      const first = await waitForLamp(page, 'idle', 10_000);
      t.ok(first.ok, 'the initial NOTIFY shows the key idle', { view: first.view, statuses, log: first.ok ? undefined : target.logTail() });
      if (!first.ok) return;
      t.match(first.view.subscription, /Subscribed/, 'the subscription is active in SIP.js');
      const subscribeAnswers = statuses.filter((s) => s.endsWith('SUBSCRIBE') || s.endsWith('SUBSCRIBE challenge'));
      t.equal(subscribeAnswers[0], '401 SUBSCRIBE challenge', 'the first SUBSCRIBE is challenged with WWW-Authenticate', { statuses });
      t.ok(subscribeAnswers.some((s) => /^20[02] SUBSCRIBE$/.test(s)), 'the SUBSCRIBE with credentials is accepted', { statuses });

      const busy = await publishDialog(target, extension, 'confirmed');
      t.equal(busy.status, 200, 'the trusted peer PUBLISH of "confirmed" is accepted', { response: busy.response });
      const lit = await waitForLamp(page, 'busy', 3000, first.view.notifies + 1);
      t.ok(lit.ok, 'the lamp turns busy', { view: lit.view, log: lit.ok ? undefined : target.logTail() });

      const idle = await publishDialog(target, extension, 'terminated', busy.etag ?? undefined);
      t.equal(idle.status, 200, 'the PUBLISH of "terminated" is accepted', { response: idle.response });
      const back = await waitForLamp(page, 'idle', 3000, lit.view.notifies + 1);
      t.ok(back.ok, 'the lamp goes back to idle', { view: back.view });
    });
  }

  t.test('a page reload leaves no stale watcher: the old WebSocket subscription ends, the new one gets the state (RFC 7118 §5, transports.md W4)', async (t) => {
    const extension = '2003';
    const { page, close } = await openPage(target.wsUrl, extension);
    t.teardown(close);
    const first = await waitForLamp(page, 'idle', 10_000);
    t.ok(first.ok, 'subscribed before the reload', { view: first.view });
    if (!first.ok) return;
    t.equal(await target.watchers(extension), 1, 'one watcher before the reload');

    await page.reload();
    const again = await waitForLamp(page, 'idle', 10_000);
    t.ok(again.ok, 'the reloaded page subscribed again', { view: again.view });

    const busy = await publishDialog(target, extension, 'confirmed');
    t.equal(busy.status, 200, 'PUBLISH accepted');
    const lit = await waitForLamp(page, 'busy', 3000, again.view.notifies + 1);
    t.ok(lit.ok, 'the new page sees the change', { view: lit.view });

    // Ended with its connection, or at the latest on its first failed NOTIFY (issue 20 item 2).
    let count = await target.watchers(extension);
    for (let i = 0; i < 50 && count !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      count = await target.watchers(extension);
    }
    t.equal(count, 1, 'within 5 s exactly one watcher remains: the reloaded page', { log: count === 1 ? undefined : target.logTail() });
  });
}
