import t from 'tap';
import {
  DEFAULT_EXPIRY,
  EventBodyError,
  EventPackageRegistry,
  resolveExpiry,
  type EventPackage,
  type ResourceState,
} from '../../src/events/event-package.js';
import { createDefaultRegistry } from '../../src/events/default-registry.js';
import type { PresenceResourceState } from '../../src/events/presence/index.js';
import { dialogInfoXml, input, pub } from './helpers/dialog-docs.js';

function fakePackage(name: string, uses: string[] = [], seen: string[] = []): EventPackage {
  return {
    name,
    contentType: `application/${name}`,
    acceptTypes: [`application/${name}`],
    publishTypes: [`application/${name}`],
    expires: DEFAULT_EXPIRY,
    uses,
    parsePublication: () => ({ format: name }),
    applyPublication: (doc) => ({ doc, history: undefined }),
    aggregate: (inp) => {
      seen.push(name);
      return { format: name, related: Object.keys(inp.related ?? {}) } as ResourceState;
    },
    render: () => Buffer.alloc(0),
  };
}

t.test('the default registry lists dialog, presence, message-summary for Allow-Events, in that order (RFC 6665 §8.2.2)', async (t) => {
  const reg = createDefaultRegistry();
  t.same(reg.names(), ['dialog', 'presence', 'message-summary']);
  t.same(reg.contentTypes(), ['application/dialog-info+xml', 'application/pidf+xml', 'application/simple-message-summary']);
});

t.test('packages carry their exact NOTIFY body type, no charset (sip-behaviour.md, NOTIFY)', async (t) => {
  const reg = createDefaultRegistry();
  t.equal(reg.get('dialog')?.contentType, 'application/dialog-info+xml');
  t.equal(reg.get('presence')?.contentType, 'application/pidf+xml');
  t.equal(reg.get('message-summary')?.contentType, 'application/simple-message-summary');
  t.same(reg.get('dialog')?.publishTypes, ['application/dialog-info+xml']);
  t.same(reg.get('presence')?.acceptTypes, ['application/pidf+xml']);
});

t.test('package lookup is exact: an unknown or differently cased event is not found (RFC 6665 §8.2.1)', async (t) => {
  const reg = createDefaultRegistry();
  t.ok(reg.get('dialog'));
  t.ok(reg.has('message-summary'));
  t.equal(reg.get('Dialog'), undefined);
  t.equal(reg.get('conference'), undefined);
  t.notOk(reg.has('reg'));
});

t.test('expiry bounds default to 3600/60/3600 and can be overridden per package (RFC 6665 §3.1.1)', async (t) => {
  const plain = createDefaultRegistry();
  for (const name of plain.names()) t.same(plain.get(name)?.expires, { default: 3600, min: 60, max: 3600 }, name);

  const reg = createDefaultRegistry({ expires: { dialog: { min: 30, max: 600, default: 300 }, 'message-summary': { max: 7200 } } });
  t.same(reg.get('dialog')?.expires, { default: 300, min: 30, max: 600 });
  t.same(reg.get('presence')?.expires, { default: 3600, min: 60, max: 3600 });
  t.same(reg.get('message-summary')?.expires, { default: 3600, min: 60, max: 7200 });
});

t.test('an overridden maximum below 3600 pulls the unset default down with it (RFC 6665 §3.1.1)', async (t) => {
  t.same(resolveExpiry({ max: 1800 }), { default: 1800, min: 60, max: 1800 });
  t.same(resolveExpiry({ min: 120, default: undefined }), { default: 3600, min: 120, max: 3600 });
});

t.test('inconsistent expiry bounds are refused when registering (RFC 6665 §3.1.1)', async (t) => {
  t.throws(() => createDefaultRegistry({ expires: { presence: { min: 600, max: 300 } } }), { code: 'bad_expiry_bounds' });
  t.throws(() => createDefaultRegistry({ expires: { dialog: { min: 0 } } }), { code: 'bad_expiry_bounds' });
  t.throws(() => createDefaultRegistry({ expires: { dialog: { default: 1.5 } } }), { code: 'bad_expiry_bounds' });
});

t.test('registering a second package under one name is refused (RFC 6665 §7.2)', async (t) => {
  const reg = new EventPackageRegistry().register(fakePackage('a'));
  t.throws(() => reg.register(fakePackage('a')), { code: 'duplicate_event_package' });
  t.same(reg.names(), ['a']);
});

t.test('Accept must list the package type or a matching wildcard; absent Accept means the default (RFC 6665 §3.1.1)', async (t) => {
  const reg = createDefaultRegistry();
  t.ok(reg.accepts('dialog', []));
  t.ok(reg.accepts('dialog', ['application/dialog-info+xml']));
  t.ok(reg.accepts('dialog', ['Application/Dialog-Info+XML;q=0.5']));
  t.ok(reg.accepts('presence', ['application/xpidf+xml', 'application/pidf+xml']));
  t.ok(reg.accepts('presence', ['*/*']));
  t.ok(reg.accepts('message-summary', ['application/*']));
  t.notOk(reg.accepts('presence', ['application/xpidf+xml']));
  t.notOk(reg.accepts('dialog', ['text/*']));
  t.notOk(reg.accepts('nope', []));
});

t.test('the registry aggregates the packages a package uses first and hands their states in related (RFC 6665 §7)', async (t) => {
  const seen: string[] = [];
  const reg = new EventPackageRegistry().register(fakePackage('base', [], seen)).register(fakePackage('top', ['base', 'absent'], seen));
  const state = reg.aggregate('top', input({})) as ResourceState & { related: string[] };
  t.same(seen, ['base', 'top']);
  t.same(state.related, ['base']);
  t.throws(() => reg.aggregate('missing', input({})), { code: 'unknown_event_package' });
});

t.test('packages that use each other are reported, not looped on (RFC 6665 §7)', async (t) => {
  const reg = new EventPackageRegistry().register(fakePackage('a', ['b'])).register(fakePackage('b', ['a']));
  t.throws(() => reg.aggregate('a', input({})), { code: 'event_package_cycle' });
});

t.test('a dialog publication affects dialog and presence watchers; message-summary only itself (RFC 3903 §4)', async (t) => {
  const reg = createDefaultRegistry();
  t.same(reg.affectedBy('dialog'), ['dialog', 'presence']);
  t.same(reg.affectedBy('presence'), ['presence']);
  t.same(reg.affectedBy('message-summary'), ['message-summary']);
});

t.test('presence aggregated through the registry sees the published dialog state (sip-behaviour.md, Bodies)', async (t) => {
  const reg = createDefaultRegistry();
  const dialog = reg.get('dialog')!;
  const doc = dialog.parsePublication(dialogInfoXml([{ id: 'd1', state: 'confirmed' }]), 'application/dialog-info+xml');
  const state = reg.aggregate('presence', input({ dialog: [pub('e1', 1, doc)] })) as PresenceResourceState;
  t.same(state.activities, ['on-the-phone']);
});

t.test('EventBodyError carries the SIP status to answer with (RFC 3903 §6)', async (t) => {
  const e415 = new EventBodyError(415, 'x');
  const e400 = new EventBodyError(400, 'y');
  t.equal(e415.status, 415);
  t.equal(e400.status, 400);
  t.equal(e400.message, 'y');
  t.equal(e400.name, 'EventBodyError');
  t.ok(e400 instanceof Error);
});
