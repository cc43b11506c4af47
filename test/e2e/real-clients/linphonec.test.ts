import t from 'tap';
import { startServerForFile } from '../../support/server-process.js';
import { onPath } from '../../support/real-clients/client-process.js';
import { startLinphonec } from '../../support/real-clients/linphonec.js';
import { dialogInfoBody, publishState } from '../../support/real-clients/publish-state.js';

/**
 * linphonec 5.1 (liblinphone), a real softphone nobody on this team wrote, as a presence watcher of the built
 * server (issue 3). A confirmed call is PUBLISHed for the watched extension and the test asserts the friend status
 * linphonec itself prints.
 */

const server = await startServerForFile(t);

const FRIEND = (status: string): RegExp => new RegExp(`Friend "Ext 1002" <sip:1002@127\\.0\\.0\\.1> is ${status}`);

t.test('linphonec is installed (.ci/run installs linphone-cli)', async (t) => {
  t.ok(onPath('linphonec'), 'linphonec is on PATH');
});

t.test('linphonec shows a friend On the phone while a published call is up and Online once it is removed (RFC 3856 §6.6, RFC 3903 §4.1, §4.5)', { skip: !onPath('linphonec') && 'linphonec is not installed' }, async (t) => {
  const linphonec = await startLinphonec({ serverPort: server.sipPort, user: '1001', watched: '1002' });
  t.teardown(() => linphonec.close());
  const tail = (found: unknown): Record<string, string> =>
    found ? {} : { output: linphonec.process.output().slice(-1500), log: linphonec.log().slice(-3000) };

  const online = await linphonec.process.waitForOutput(FRIEND('Online'), 15_000);
  t.ok(online, 'linphonec reports the friend Online after the first NOTIFY', tail(online));
  if (!online) return;
  const afterOnline = online.index + online[0].length;

  const published = await publishState(server.sipPort, {
    resource: '1002',
    event: 'dialog',
    contentType: 'application/dialog-info+xml',
    body: dialogInfoBody('1002', 'confirmed', 'linphonec-call-1'),
    expires: 120,
  });
  t.equal(published.status, 200, 'the confirmed call is accepted by the server');

  const onThePhone = await linphonec.process.waitForOutput(FRIEND('On the phone'), 10_000, afterOnline);
  t.ok(onThePhone, 'linphonec reports the friend "On the phone"', tail(onThePhone));
  if (!onThePhone) return;
  const afterPhone = afterOnline + onThePhone.index + onThePhone[0].length;

  const removed = await publishState(server.sipPort, { resource: '1002', event: 'dialog', expires: 0, ifMatch: published.etag! });
  t.equal(removed.status, 200, 'the publication is removed (Expires 0 with SIP-If-Match)');
  const backOnline = await linphonec.process.waitForOutput(FRIEND('Online'), 10_000, afterPhone);
  t.ok(backOnline, 'linphonec reports the friend Online again', tail(backOnline));
});
