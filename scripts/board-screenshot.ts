/**
 * Makes docs/board.png, the BLF board as the README shows it (issue 23 item 6), with the browser test's own code:
 * the real server from dist/, devices made through the API, SIP watchers and PUBLISHes over UDP, Debian's Chromium.
 *
 *   npm run board:screenshot [-- out.png]   (builds dist/, then runs this file through tap's TypeScript loader)
 *
 * Reduced motion is asked for so the ringing lamp is caught lit (it blinks otherwise), with the ring that marks it.
 */
import { resolve } from 'node:path';
import { chromiumMissing, launchBoardBrowser } from '../test/support/board-browser.js';
import { startBoardScene } from '../test/support/board-scene.js';
import { repoRoot } from '../test/support/server-process.js';

const DEVICES: Record<string, string> = {
  '1001': 'Reception',
  '1002': 'Sales 1',
  '1003': 'Sales 2',
  '1004': 'Support desk',
  '1005': 'Warehouse',
  '1006': 'Accounts',
  '1007': 'Lobby',
  '1008': 'Meeting room',
  '1009': 'Night service',
  '1010': 'Fax',
};

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const out = resolve(process.argv[2] ?? resolve(repoRoot, 'docs', 'board.png'));
  const scene = await startBoardScene({ devices: DEVICES, watched: ['1001', '1002', '1003', '1004', '1005', '1006', '1007', '1008'], watchers: 2 });
  const browser = await launchBoardBrowser();
  try {
    const dialog = (ext: string, state: string) => ({
      resource: ext,
      dialog: { id: `d${ext}`, callId: `call-${ext}`, localTag: `l${ext}`, remoteTag: `r${ext}`, state, direction: 'recipient' as const, remote: '2001' },
      expires: 600,
    });
    await scene.publisher.publishDialog(dialog('1002', 'confirmed'));
    await scene.publisher.publishDialog(dialog('1003', 'early'));
    await scene.publisher.publishDialog(dialog('1006', 'confirmed'));
    await scene.call('POST', `/v2/accounts/${scene.accountId}/devices/${scene.deviceIds['1009']}/presence`, { action: 'set', state: 'confirmed' });
    await scene.watchers[0]!.subscribe({ resource: '1004', user: '3005', expires: 3600 });
    const context = await browser.newContext({ reducedMotion: 'reduce', viewport: { width: 1200, height: 310 } });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${scene.server.apiPort}/board#token=${scene.token}`);
    await page.waitForSelector('#conn[data-conn=live]', { timeout: 10_000 });
    await page.waitForSelector('#tiles button[data-resource="1003"][data-state=early]', { timeout: 5_000 });
    await page.waitForSelector('#tiles button[data-resource="1006"][data-state=confirmed]', { timeout: 5_000 });
    await page.screenshot({ path: out });
    process.stdout.write(`${out}\n`);
  } finally {
    await browser.close();
    await scene.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
