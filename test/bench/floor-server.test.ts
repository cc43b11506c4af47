import t from 'tap';
import { startFloorServer, type FloorParse } from '../../bench/floor/floor-server.js';
import { parseMessage } from '../../src/sip/parser/index.js';
import type { SipRequest, SipResponse } from '../../src/sip/message/message.js';
import { publishText, subscribeText } from '../support/sip-builders.js';
import { UdpPeer } from '../support/sip-client.js';

// The floor only has to carry SIPp's rate and fan-out scenarios (bench/scenarios/watch-two.xml, publish.xml): these
// tests check what those scenarios rely on, in the dialogs of RFC 6665 and the documents of RFC 4235.

const subscribe = (peer: UdpPeer, port: number, ext: string, n: number): string =>
  subscribeText({
    target: `${ext}@127.0.0.1:${port}`,
    from: `sip:w${n}@127.0.0.1`,
    fromTag: `wt${n}`,
    callId: `call-${n}`,
    contact: `<sip:w${n}@127.0.0.1:${peer.port};transport=udp>`,
    expires: 3600,
  });

const publish = (port: number, ext: string, state: string, body = dialogInfo(ext, state)): string =>
  publishText({ target: `${ext}@127.0.0.1:${port}`, expires: 3600, contentType: 'application/dialog-info+xml', body });

function dialogInfo(ext: string, state: string): string {
  return `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" ` +
    `entity="sip:${ext}@127.0.0.1"><dialog id="d1" direction="recipient"><state>${state}</state></dialog></dialog-info>\n`;
}

const parsed = (bufs: Buffer[]): (SipRequest | SipResponse)[] => bufs.map((b) => parseMessage(b) as SipRequest | SipResponse);
const requests = (bufs: Buffer[]): SipRequest[] => parsed(bufs).filter((m): m is SipRequest => m.isRequest());
const responses = (bufs: Buffer[]): SipResponse[] => parsed(bufs).filter((m): m is SipResponse => !m.isRequest());

for (const parse of [[], ['sip', 'xml']] as FloorParse[][]) {
  const label = parse.length === 0 ? 'plain floor' : `floor with ${parse.join(' and ')} readers`;

  t.test(`${label}: a SUBSCRIBE gets a 200 with a To tag and a NOTIFY in that dialog (RFC 6665 §4.2.1, §4.2.2)`, async (t) => {
    const floor = await startFloorServer({ host: '127.0.0.1', port: 0, parse });
    const peer = await UdpPeer.open();
    t.teardown(async () => {
      await peer.close();
      await floor.close();
    });
    await peer.send(subscribe(peer, floor.port, '201', 1), floor.port);
    const got = await peer.waitFor(2);
    const [ok] = responses(got);
    const [notify] = requests(got);
    t.equal(ok?.status, 200);
    const toTag = /;tag=([^;\s]+)/.exec(ok!.headers.get('To') ?? '')?.[1];
    t.ok(toTag, 'the 200 carries our tag');
    t.equal(notify?.method, 'NOTIFY');
    t.equal(notify!.uri, `sip:w1@127.0.0.1:${peer.port};transport=udp`, 'sent to the Contact');
    t.equal(notify!.headers.get('Call-ID'), 'call-1');
    t.match(notify!.headers.get('From') ?? '', `;tag=${toTag}`, 'From carries the tag of the 200');
    t.match(notify!.headers.get('To') ?? '', ';tag=wt1', "To carries the watcher's tag");
    t.equal(notify!.headers.get('CSeq'), '1 NOTIFY');
    t.match(notify!.body.toString(), /version="0"/);
    t.notMatch(notify!.body.toString(), /<dialog /, 'nothing published yet: no dialog');
  });

  t.test(`${label}: a PUBLISH reaches every watcher of its extension with the published state, CSeq and version rising (RFC 4235 §4.1)`, async (t) => {
    const floor = await startFloorServer({ host: '127.0.0.1', port: 0, parse });
    const watchers = await UdpPeer.open();
    const other = await UdpPeer.open();
    const publisher = await UdpPeer.open();
    t.teardown(async () => {
      await Promise.all([watchers.close(), other.close(), publisher.close()]);
      await floor.close();
    });
    await watchers.send(subscribe(watchers, floor.port, '201', 1), floor.port);
    await watchers.send(subscribe(watchers, floor.port, '201', 2), floor.port);
    await other.send(subscribe(other, floor.port, '202', 3), floor.port);
    await watchers.waitFor(4);
    await other.waitFor(2);
    await publisher.send(publish(floor.port, '201', 'confirmed'), floor.port);
    const [ok] = responses(await publisher.waitFor(1));
    t.equal(ok?.status, 200);
    t.ok(ok!.headers.get('SIP-ETag'), 'an entity-tag, as RFC 3903 §11.3.1 has the 200 carry');
    const notifies = requests(await watchers.waitFor(6)).filter((r) => r.headers.get('CSeq') === '2 NOTIFY');
    t.equal(notifies.length, 2, 'one NOTIFY per watcher of 201');
    for (const n of notifies) {
      t.match(n.body.toString(), /version="1"/);
      t.match(n.body.toString(), /<state>confirmed<\/state>/);
    }
    t.same(new Set(notifies.map((n) => n.headers.get('Call-ID'))), new Set(['call-1', 'call-2']));
    await new Promise((res) => setTimeout(res, 50));
    t.equal(other.received.length, 2, 'the watcher of another extension hears nothing');
  });
}

t.test('floor with the xml reader: a PUBLISH body it cannot read is answered but reaches no watcher', async (t) => {
  const floor = await startFloorServer({ host: '127.0.0.1', port: 0, parse: ['xml'] });
  const watcher = await UdpPeer.open();
  const publisher = await UdpPeer.open();
  t.teardown(async () => {
    await Promise.all([watcher.close(), publisher.close()]);
    await floor.close();
  });
  await watcher.send(subscribe(watcher, floor.port, '201', 1), floor.port);
  await watcher.waitFor(2);
  await publisher.send(publish(floor.port, '201', 'confirmed', '<dialog-info><state>confirmed</state>'), floor.port);
  t.equal(responses(await publisher.waitFor(1))[0]?.status, 200);
  await new Promise((res) => setTimeout(res, 50));
  t.equal(watcher.received.length, 2, 'only the 200 and the first NOTIFY: the reader refused the body');
});
