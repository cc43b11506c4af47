import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { boardHtmlPath, boardPageOf } from '../../src/api/board/board-page.js';
import { apiHarness } from './helpers/api-harness.js';

/**
 * Issue 23 item 3, the server side of `GET /board` (operator-ux.md §6): a public static page, its inline script and
 * style allowed by hash and nothing else, same-origin calls only; other verbs get the API's 405 envelope.
 */

const sha = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

t.test('the CSP allows exactly the inline script and style by their SHA-256 (CSP3 hash-source), no unsafe-inline', async (t) => {
  const html = readFileSync(boardHtmlPath(), 'utf8');
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
  const { csp } = boardPageOf(html);
  t.match(csp, `script-src ${sha(script)};`);
  t.match(csp, `style-src ${sha(style)};`);
  t.match(csp, "default-src 'none'");
  t.match(csp, "connect-src 'self'");
  t.match(csp, "frame-ancestors 'none'");
  t.notMatch(csp, /unsafe/);
  t.notMatch(html, /<script[^>]*src=|<link[^>]*stylesheet|style="/, 'nothing external, no style attributes the CSP would block');
  const other = boardPageOf(html.replace('Piston BLF board</h1>', 'Changed</h1>'));
  t.not(other.etag, boardPageOf(html).etag, 'the ETag follows the bytes');
});

t.test('GET /board answers the page without a token; HEAD too; If-None-Match gets 304', async (t) => {
  const h = await apiHarness(t);
  const res = await h.request('GET', '/board');
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/);
  t.match(res.text, /<title>Piston BLF board<\/title>/);
  t.match(res.headers.get('content-security-policy'), /script-src 'sha256-/);
  t.equal(res.headers.get('x-content-type-options'), 'nosniff');
  t.equal(res.headers.get('referrer-policy'), 'no-referrer');
  t.equal(res.headers.get('set-cookie'), null, 'no cookie');
  const etag = res.headers.get('etag')!;
  t.match(etag, /^"[A-Za-z0-9_-]+"$/);
  const again = await h.request('GET', '/board', { headers: { 'If-None-Match': etag } });
  t.equal(again.status, 304);
  t.equal(again.text, '');
  const head = await h.request('HEAD', '/board');
  t.equal(head.status, 200);
  t.equal(head.text, '');
});

t.test('other verbs on /board get the 405 envelope with Allow; /board/ and /board.html are not the page', async (t) => {
  const h = await apiHarness(t);
  for (const verb of ['POST', 'PUT', 'DELETE']) {
    const res = await h.request(verb, '/board');
    t.equal(res.status, 405, verb);
    t.equal(res.headers.get('allow'), 'GET, HEAD');
    t.equal(res.json.error, '405');
  }
  t.equal((await h.request('GET', '/board.html')).status, 404);
  t.equal((await h.request('GET', '/board/x')).status, 404);
});

t.test('without its page (a broken install) /board is the API 404 and nothing else changes', async (t) => {
  const Koa = (await import('koa')).default;
  const { boardRoute } = await import('../../src/api/routes/board-routes.js');
  const app = new Koa();
  app.use(boardRoute(undefined));
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = 'next';
  });
  const server = app.listen(0, '127.0.0.1');
  t.teardown(() => void server.close());
  await new Promise((r) => server.once('listening', r));
  const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/board`);
  t.equal(res.status, 404);
  t.equal(await res.text(), 'next', 'handed on to the next middleware');
});
