import { existsSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core, launched by path: nothing is downloaded (operator-ux.md §8,
 * transports.md §5). Headless; `--no-sandbox` because CI runs as root. One browser per test file (a launch is ~1.2 s).
 */
export const CHROMIUM_PATH = process.env.PISTON_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is missing (apt-get install -y chromium)`;
}

export function launchBoardBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A TCP relay on 127.0.0.1 in front of the admin port, so a test can cut the browser's connections (the live stream)
 * the way a network or proxy does, and refuse new ones for a while, without touching the server.
 */
export interface DroppableProxy {
  readonly port: number;
  /** Destroys every relayed connection; with `refuse`, new ones are closed at once until `accept()`. */
  drop(refuse?: boolean): void;
  accept(): void;
  /** Connections relayed now. */
  readonly open: number;
  close(): Promise<void>;
}

export async function droppableProxy(targetPort: number): Promise<DroppableProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  return {
    port: (server.address() as { port: number }).port,
    drop(refuse = false) {
      refusing = refuse;
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    accept() {
      refusing = false;
    },
    get open() {
      return pairs.size;
    },
    close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      return new Promise((res) => server.close(() => res()));
    },
  };
}
