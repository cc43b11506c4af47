import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The BLF board (`GET /board`): one static HTML file with its CSS and JS inline, no data in it (operator-ux.md §6).
 * Read once, with a Content-Security-Policy that allows exactly its inline script and style (by hash) and calls to
 * the same origin only, so nothing injected into the page could run or send data elsewhere.
 */
export interface BoardPage {
  readonly html: string;
  readonly csp: string;
  /** A strong validator of the file's bytes, for If-None-Match. */
  readonly etag: string;
}

/**
 * Where the HTML is: beside this module when run from src/ (tests), else in src/ of the repository when run from the
 * compiled dist/src/api/board/ (tsc copies no .html, and the board needs no build step).
 */
const CANDIDATES = ['./board.html', '../../../../src/api/board/board.html'];

export function boardHtmlPath(): string {
  for (const rel of CANDIDATES) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`board.html not found beside ${fileURLToPath(import.meta.url)} nor in the repository's src/api/board/`);
}

function hashesOf(html: string, tag: 'script' | 'style'): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    out.push(`'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
  }
  return out;
}

/** The page and its policy from the HTML text. Inline elements must be written bare (`<script>`, `<style>`). */
export function boardPageOf(html: string): BoardPage {
  const csp = [
    "default-src 'none'",
    `script-src ${hashesOf(html, 'script').join(' ')}`,
    `style-src ${hashesOf(html, 'style').join(' ')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const etag = `"${createHash('sha256').update(html, 'utf8').digest('base64url').slice(0, 27)}"`;
  return { html, csp, etag };
}

let cached: BoardPage | undefined;

/** The board page, read from disk on first use and kept (the file is part of the installed program). */
export function boardPage(): BoardPage {
  return (cached ??= boardPageOf(readFileSync(boardHtmlPath(), 'utf8')));
}
