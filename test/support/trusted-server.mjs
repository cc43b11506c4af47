// The built server (dist/src/main.js's startServer) with trusted peers, for end-to-end tests until the trust index
// of issue 19 is wired in main(): PISTON_TEST_TRUSTED_ADDRESSES lists the source addresses treated as trusted peers.
// Plain JavaScript so node runs it without a loader; run `npm run build` first.
import { pino } from 'pino';
import { loadConfig } from '../../dist/src/config/config.js';
import { SystemClock } from '../../dist/src/lib/clock.js';
import { startServer } from '../../dist/src/main.js';

const trusted = new Set((process.env.PISTON_TEST_TRUSTED_ADDRESSES ?? '').split(',').filter((a) => a.length > 0));
const config = loadConfig(process.env);
const logger = pino({ level: config.logLevel, base: { node: config.nodeName } });
const server = await startServer(config, logger, new SystemClock(), {
  trustedPeers: (source) => (trusted.has(source.address) ? [{ id: `test-peer-${source.address}`, accountId: 'test' }] : []),
});
const stop = () => server.stop().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
