import { ConfigError, loadConfig, type Config } from './config/config.js';

/**
 * Entry point of `npm start`: reads and checks the configuration before anything else is loaded, so a bad variable
 * is reported at once (the server's modules take about three times as long to load as the configuration's), then
 * hands over to main.ts. Running dist/src/main.js directly does the same, only later.
 */
let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
const { main } = await import('./main.js');
await main(config);
