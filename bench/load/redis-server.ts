import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { ProcessRegistry } from './process-registry.js';
import { cpuTicks, isAlive } from './proc-stats.js';
import { freePort } from './net-probe.js';
import { sleep } from './sleep.js';

/**
 * Debian's redis-server for the cluster step: on a free loopback port, its directory under the run's output, no
 * persistence (the step measures the live path, not disk), stopped by PID through the registry.
 */
export class RedisServer {
  port = 0;
  private pid: number | null = null;
  private client: Redis | null = null;

  constructor(
    private readonly registry: ProcessRegistry,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.port = await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no', '--logfile', join(this.dir, 'redis.log')];
    const { child } = this.registry.spawn('redis-server', args, { stdio: 'ignore' }, 'redis-server');
    this.pid = child.pid!;
    this.client = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if (this.client.status === 'wait') await this.client.connect();
        if ((await this.client.ping()) === 'PONG') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || !isAlive(this.pid)) throw new Error(`redis-server on ${this.port} did not answer PING; see ${join(this.dir, 'redis.log')}`);
      await sleep(50);
    }
  }

  /** `used_memory` of INFO memory, bytes: what the data set costs (allocator overhead included). */
  async usedMemory(): Promise<number> {
    const info = await this.client!.info('memory');
    const m = /^used_memory:(\d+)/m.exec(info);
    if (!m) throw new Error('INFO memory has no used_memory');
    return Number(m[1]);
  }

  /** Commands run and network bytes read and written since the start (INFO stats). */
  async stats(): Promise<{ commands: number; inBytes: number; outBytes: number }> {
    const info = await this.client!.info('stats');
    const num = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
    return { commands: num('total_commands_processed'), inBytes: num('total_net_input_bytes'), outBytes: num('total_net_output_bytes') };
  }

  /** Keys in the data set (DBSIZE). */
  async keys(): Promise<number> {
    return this.client!.dbsize();
  }

  cpuTicks(): number {
    return this.pid === null ? 0 : cpuTicks([this.pid]);
  }

  async stop(): Promise<void> {
    this.client?.disconnect();
    this.client = null;
    if (this.pid !== null) await this.registry.stop(this.pid, 'SIGTERM', 5000);
    this.pid = null;
  }
}
