import t from 'tap';
import { startServerForFile } from '../../support/server-process.js';
import { startBaresip } from '../../support/real-clients/baresip.js';
import { onPath } from '../../support/real-clients/client-process.js';
import { dialogInfoBody, messageSummaryBody, publishState } from '../../support/real-clients/publish-state.js';
import { startRegistrarRelay } from '../../support/real-clients/registrar-relay.js';

/**
 * baresip 1.0.0, a real softphone nobody on this team wrote, as a presence and message-summary watcher of the
 * built server (issue 3). State changes are PUBLISHed to the server (RFC 3903) and the tests assert what baresip
 * itself reports: its "changed status" lines and contact list, and the "MWI for" blocks its menu module prints.
 */

const server = await startServerForFile(t);

// The menu module prints the header line, then the NOTIFY body and an empty line: requiring that empty line means a
// block is only read once baresip has printed all of it.
const MWI_BLOCK = /----- MWI for sip:1004@127\.0\.0\.1(?::\d+)? -----\r?\n((?:[A-Za-z-]+: [^\r\n]*\r?\n)+)\r?\n/;

t.test('baresip is installed (.ci/run installs baresip-core)', async (t) => {
  t.ok(onPath('baresip'), 'baresip is on PATH');
});

t.test('baresip sees a watched extension turn Busy while a published call is up and Online once it is removed (RFC 3856 §6.6, RFC 3903 §4.1, §4.5)', { skip: !onPath('baresip') && 'baresip is not installed' }, async (t) => {
  const baresip = await startBaresip({ serverPort: server.sipPort, user: '1001', watched: '1002' });
  t.teardown(() => baresip.close());
  const tail = (found: unknown): string => (found ? '' : baresip.process.output().slice(-2000));

  const first = await baresip.waitForContacts(/Online\s+Ext 1002/, 10_000);
  t.match(first, /Online\s+Ext 1002 <sip:1002@127\.0\.0\.1:\d+>/, 'baresip lists Ext 1002 as Online after the first NOTIFY', { contacts: first });

  const published = await publishState(server.sipPort, {
    resource: '1002',
    event: 'dialog',
    contentType: 'application/dialog-info+xml',
    body: dialogInfoBody('1002', 'confirmed', 'baresip-call-1'),
    expires: 120,
  });
  t.equal(published.status, 200, 'the confirmed call is accepted by the server');
  t.ok(published.etag, 'with a SIP-ETag');

  const busy = await baresip.process.waitForOutput(/<sip:1002@127\.0\.0\.1:\d+> changed status from Online to Busy/, 10_000);
  t.ok(busy, 'baresip reports "changed status from Online to Busy"', { output: tail(busy) });
  t.match(await baresip.waitForContacts(/Busy\s+Ext 1002/, 3000), /Busy\s+Ext 1002/, 'and lists the contact as Busy');

  const removed = await publishState(server.sipPort, { resource: '1002', event: 'dialog', expires: 0, ifMatch: published.etag! });
  t.equal(removed.status, 200, 'the publication is removed (Expires 0 with SIP-If-Match)');
  const online = await baresip.process.waitForOutput(/<sip:1002@127\.0\.0\.1:\d+> changed status from Busy to Online/, 10_000, busy ? busy.index : 0);
  t.ok(online, 'baresip reports "changed status from Busy to Online"', { output: tail(online) });
});

t.test('baresip shows the message counts published for its mailbox, then the cleared box (RFC 3842 §3.5, §5.2, RFC 3903 §4.1)', { skip: !onPath('baresip') && 'baresip is not installed' }, async (t) => {
  // baresip's mwi module SUBSCRIBEs only after a successful REGISTER; the relay answers REGISTER (our server says 405)
  // and passes the SUBSCRIBE and the server's NOTIFYs through unchanged.
  const relay = await startRegistrarRelay(server.sipPort);
  t.teardown(() => relay.close());
  const baresip = await startBaresip({ serverPort: server.sipPort, user: '1001' });
  t.teardown(() => baresip.close());
  const tail = (found: unknown): string => (found ? '' : baresip.process.output().slice(-2000));

  const added = await baresip.addMwiAccount('1004', relay.port);
  t.ok(added.ok, 'baresip accepted the MWI account (ctrl_tcp uanew)', { reply: added.data });

  const firstBlock = await baresip.process.waitForOutput(MWI_BLOCK, 10_000);
  t.ok(relay.registers.length >= 1, 'baresip registered (to the relay) before subscribing');
  t.ok(firstBlock, 'baresip prints an MWI block for the empty mailbox', { relayed: relay.relayed, output: tail(firstBlock) });
  if (!firstBlock) return;
  t.match(firstBlock[1], /^Messages-Waiting: no\r?$/m, 'Messages-Waiting: no before anything is published');
  t.match(firstBlock[1], /^Voice-Message: 0\/0 \(0\/0\)\r?$/m, 'Voice-Message 0/0 (0/0)');
  const afterFirst = firstBlock.index + firstBlock[0].length;

  const published = await publishState(server.sipPort, {
    resource: '1004',
    event: 'message-summary',
    contentType: 'application/simple-message-summary',
    body: messageSummaryBody('sip:1004@127.0.0.1', true, { new: 3, old: 1, urgentNew: 1, urgentOld: 0 }),
    expires: 120,
  });
  t.equal(published.status, 200, 'the message summary is accepted by the server');

  const waiting = await baresip.process.waitForOutput(MWI_BLOCK, 10_000, afterFirst);
  t.ok(waiting, 'baresip prints a second MWI block after the PUBLISH', { output: tail(waiting) });
  if (!waiting) return;
  t.match(waiting[1], /^Messages-Waiting: yes\r?$/m, 'Messages-Waiting: yes');
  t.match(waiting[1], /^Voice-Message: 3\/1 \(1\/0\)\r?$/m, 'Voice-Message 3/1 (1/0), urgent counts included');
  const afterSecond = afterFirst + waiting.index + waiting[0].length;

  const removed = await publishState(server.sipPort, { resource: '1004', event: 'message-summary', expires: 0, ifMatch: published.etag! });
  t.equal(removed.status, 200, 'the summary publication is removed');
  const cleared = await baresip.process.waitForOutput(MWI_BLOCK, 10_000, afterSecond);
  t.ok(cleared, 'baresip prints a third MWI block after the removal', { output: tail(cleared) });
  if (cleared) t.match(cleared[1], /^Messages-Waiting: no\r?$/m, 'Messages-Waiting: no again');
});
