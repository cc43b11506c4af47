/**
 * Runs the load suite's floor (bench/floor/floor-server.ts) as a process, the way the runner starts our server:
 * PISTON_SIP_HOST and PISTON_SIP_PORT say where to listen, PISTON_FLOOR_PARSE (`sip`, `xml` or `sip,xml`) which of
 * our readers to add back. Stops on SIGTERM or SIGINT.
 *   npm run bench -- --vs floor [--floor-parse sip,xml]
 */
import { startFloorServer, type FloorParse } from './floor/floor-server.js';

const parse = (process.env.PISTON_FLOOR_PARSE ?? '').split(',').filter((p): p is FloorParse => p === 'sip' || p === 'xml');
const server = await startFloorServer({
  host: process.env.PISTON_SIP_HOST ?? '127.0.0.1',
  port: Number(process.env.PISTON_SIP_PORT ?? 5060),
  parse,
});
process.stdout.write(`${JSON.stringify({ msg: 'ready', port: server.port, parse })}\n`);
const stop = (): void => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
