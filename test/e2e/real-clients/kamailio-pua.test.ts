import t from 'tap';
import { freePort, startServerForFile } from '../../support/server-process.js';
import { onPath } from '../../support/real-clients/client-process.js';
import { startKamailioPua } from '../../support/real-clients/kamailio-pua.js';
import { watchCallThroughKamailio } from '../../support/real-clients/kamailio-call.js';

/**
 * Kamailio's pua_dialoginfo, a real call-state source nobody on this team wrote, PUBLISHes the states of a real
 * SIPp call relayed through it to the built server (issue 3); a SIPp BLF watcher subscribed to the callee must see
 * the call go early → confirmed → terminated, in that order, in the NOTIFYs the server sends it.
 */

const server = await startServerForFile(t);

const installed = onPath('kamailio') && onPath('sipp');

t.test('kamailio and sipp are installed (.ci/run installs kamailio, kamailio-presence-modules and sip-tester)', async (t) => {
  t.ok(onPath('kamailio'), 'kamailio is on PATH');
  t.ok(onPath('sipp'), 'sipp is on PATH');
});

t.test('a BLF watcher sees a real call that Kamailio publishes go early, confirmed, terminated in that order (RFC 4235 §3.7.1, RFC 3903 §4, RFC 6665 §4.2.2)', { skip: !installed && 'kamailio or sipp is not installed' }, async (t) => {
  const calleePort = await freePort();
  const kamailio = await startKamailioPua({ serverPort: server.sipPort, calleePort });
  t.teardown(() => kamailio.close());
  await watchCallThroughKamailio(t, { serverSipPort: server.sipPort, kamailio, calleePort, watcherHost: '127.0.0.1' });
});
