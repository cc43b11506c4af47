import t from 'tap';
import { onPath } from '../../support/real-clients/client-process.js';
import { startLinphonec } from '../../support/real-clients/linphonec.js';
import { dialogInfoBody, publishState } from '../../support/real-clients/publish-state.js';
import { startServerForFile } from '../../support/server-process.js';
import { makeTestPki } from '../../support/tls-certs.js';

/**
 * linphonec 5.1 (liblinphone, belle-sip's TLS) as a presence watcher over TLS (issue 20 item 4, a second real TLS
 * client), the server's certificate checked against the test CA. Open policy: liblinphone's digest needs auth_info
 * sections this fixture does not have; baresip-tls.test.ts covers digest over TLS with a real client.
 */

const pki = makeTestPki();
t.teardown(() => pki.cleanup());
const server = await startServerForFile(t, {
  env: {
    PISTON_SIP_HOST: '127.0.0.1',
    PISTON_SIP_TLS_CERT: pki.server.certPath,
    PISTON_SIP_TLS_KEY: pki.server.keyPath,
    PISTON_WARM_UP_ROUNDS: '0',
  },
});

const FRIEND = (status: string): RegExp => new RegExp(`Friend "Ext 1002" <sip:1002@127\\.0\\.0\\.1> is ${status}`);

t.test('linphonec over TLS shows a friend Online, then On the phone when a call is published (RFC 3856 §6.6, issue 20 item 4)', { skip: !onPath('linphonec') && 'linphonec is not installed' }, async (t) => {
  const linphonec = await startLinphonec({ serverPort: server.tlsPort!, user: '1001', watched: '1002', tls: { caFile: pki.ca.certPath } });
  t.teardown(() => linphonec.close());
  const tail = (found: unknown): Record<string, string> =>
    found ? {} : { output: linphonec.process.output().slice(-1500), log: linphonec.log().slice(-3000) };

  const online = await linphonec.process.waitForOutput(FRIEND('Online'), 15_000);
  t.ok(online, 'linphonec reports the friend Online after the first NOTIFY', tail(online));
  if (!online) return;
  const metrics = await (await fetch(`http://127.0.0.1:${server.apiPort}/metrics`)).text();
  t.match(metrics, /piston_sip_connections\{transport="tls"\} [1-9]/, 'over a TLS connection');
  t.match(metrics, /piston_sip_connections\{transport="tcp"\} 0/, 'none over plain TCP');

  const published = await publishState(server.sipPort, {
    resource: '1002',
    event: 'dialog',
    contentType: 'application/dialog-info+xml',
    body: dialogInfoBody('1002', 'confirmed', 'linphonec-tls-call-1'),
    expires: 120,
  });
  t.equal(published.status, 200, 'the confirmed call is accepted by the server');
  const onThePhone = await linphonec.process.waitForOutput(FRIEND('On the phone'), 10_000, online.index + online[0].length);
  t.ok(onThePhone, 'linphonec reports the friend "On the phone" (the NOTIFY came over TLS)', tail(onThePhone));
  const removed = await publishState(server.sipPort, { resource: '1002', event: 'dialog', expires: 0, ifMatch: published.etag! });
  t.equal(removed.status, 200);
});
