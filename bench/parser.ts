/**
 * Parser benchmark: messages per second for a realistic SUBSCRIBE (~600 bytes) and a NOTIFY with a 1 KB
 * dialog-info body, lazy (parseMessage only) and full (parseMessage + validateRequest + every typed getter).
 * Run with `npm run bench:parser`. Figures only; nothing is asserted.
 */
import { performance } from 'node:perf_hooks';
import type { SipMessage, SipRequest } from '../src/sip/message/message.js';
import { parseMessage } from '../src/sip/parser/parse-message.js';
import { validateRequest } from '../src/sip/parser/validate.js';

const SUBSCRIBE = [
  'SUBSCRIBE sip:1002@pbx.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.1.34:5060;branch=z9hG4bK-524287-1---4a1e1c8e7b6f2d3c;rport',
  'Max-Forwards: 70',
  'Contact: <sip:1001@192.168.1.34:5060;transport=udp>;+sip.instance="<urn:uuid:8a2f6c2e-51aa-4f8e-9d0b-1c2d3e4f5a6b>"',
  'To: <sip:1002@pbx.example.com>',
  'From: "Reception 1001" <sip:1001@pbx.example.com>;tag=8f3c2a71',
  'Call-ID: 5b7d1314-3aee-470a-812b-ae517f946741',
  'CSeq: 3250 SUBSCRIBE',
  'Expires: 600',
  'Accept: application/dialog-info+xml',
  'Supported: replaces, timer',
  'User-Agent: Yealink SIP-T46S 66.86.0.15',
  'Event: dialog',
  'Allow-Events: dialog, refer',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const DIALOG_INFO = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="17" state="full" entity="sip:1002@pbx.example.com">',
  '  <dialog id="a84b4c76e66710-1" call-id="3848276298220188511@192.168.1.20" local-tag="9fxced76sl" remote-tag="kp2f39qu" direction="recipient">',
  '    <state>confirmed</state>',
  '    <duration>274</duration>',
  '    <local>',
  '      <identity display="Sales 1002">sip:1002@pbx.example.com</identity>',
  '      <target uri="sip:1002@192.168.1.35:5060;transport=udp">',
  '        <param pname="+sip.rendering" pval="yes"/>',
  '      </target>',
  '    </local>',
  '    <remote>',
  '      <identity display="Customer">sip:+441632960123@pbx.example.com</identity>',
  '      <target uri="sip:+441632960123@203.0.113.7:5060"/>',
  '    </remote>',
  '  </dialog>',
  '</dialog-info>',
  '',
].join('\r\n');
const BODY = DIALOG_INFO + ' '.repeat(Math.max(0, 1024 - Buffer.byteLength(DIALOG_INFO)));

const NOTIFY = Buffer.concat([
  Buffer.from(
    [
      'NOTIFY sip:1001@192.168.1.34:5060;transport=udp SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK7f1e2d3c4b5a69788',
      'Max-Forwards: 70',
      'From: <sip:1002@pbx.example.com>;tag=jr2itkua84',
      'To: "Reception 1001" <sip:1001@pbx.example.com>;tag=8f3c2a71',
      'Call-ID: 5b7d1314-3aee-470a-812b-ae517f946741',
      'CSeq: 18 NOTIFY',
      'Contact: <sip:presence@10.0.0.5:5060>',
      'Event: dialog',
      'Subscription-State: active;expires=543',
      'Content-Type: application/dialog-info+xml',
      `Content-Length: ${Buffer.byteLength(BODY)}`,
      '',
      '',
    ].join('\r\n'),
  ),
  Buffer.from(BODY),
]);

const SUB = Buffer.from(SUBSCRIBE);

let sink = 0;

function touchAll(m: SipMessage): void {
  const r = m as SipRequest;
  validateRequest(r);
  sink += r.requestUri.host.length;
  sink += r.via.length + r.topVia.host.length + r.cseq.seq + r.from.params.size + r.to.params.size;
  sink += r.callId.length + r.contact.length + (r.contactStar ? 1 : 0) + (r.expires ?? 0) + (r.maxForwards ?? 0);
  sink += (r.contentLength ?? 0) + (r.contentType?.length ?? 0) + (r.event?.package.length ?? 0);
  sink += r.subscriptionState?.state.length ?? 0;
  sink += r.accept.length + r.require.length + r.proxyRequire.length + r.allowEvents.length + r.supported.length;
  sink += (r.sipIfMatch?.length ?? 0) + (r.sipETag?.length ?? 0) + (r.authorization?.params.size ?? 0);
  sink += (r.minExpires ?? 0) + r.route.length + r.recordRoute.length + r.body.length;
}

function run(buf: Buffer, full: boolean, ms: number): number {
  const t0 = performance.now();
  let n = 0;
  let t = t0;
  do {
    for (let i = 0; i < 1000; i++) {
      const m = parseMessage(buf);
      if (full) touchAll(m);
      else sink += m.headers.size;
    }
    n += 1000;
    t = performance.now();
  } while (t - t0 < ms);
  return (n * 1000) / (t - t0);
}

const cases: [string, Buffer][] = [
  [`SUBSCRIBE (${SUB.length} B)`, SUB],
  [`NOTIFY (${NOTIFY.length} B, ${Buffer.byteLength(BODY)} B body)`, NOTIFY],
];

// Warm-up: let the JIT settle on every path before measuring.
for (const [, buf] of cases) {
  run(buf, false, 300);
  run(buf, true, 300);
}

const rows: string[][] = [];
for (const [name, buf] of cases) {
  const lazy = run(buf, false, 1500);
  const full = run(buf, true, 1500);
  rows.push([name, Math.round(lazy).toLocaleString('en-US'), Math.round(full).toLocaleString('en-US')]);
}
const header = ['message', 'lazy msg/s', 'full msg/s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ') + ' |';
process.stdout.write(
  [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n') +
    `\n(targets: lazy >= 100,000/s, full >= 40,000/s; checksum ${sink % 1000})\n`,
);
