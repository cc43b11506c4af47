import t from 'tap';
import { ListAccountResolver } from '../../src/accounts/account-resolver.js';
import { createDefaultRegistry } from '../../src/events/default-registry.js';
import type { SipRequest } from '../../src/sip/message/message.js';
import { parseMessage } from '../../src/sip/parser/parse-message.js';
import { SUBSCRIBE_STEPS, newSubscribeContext, type Rejection, type StepDeps } from '../../src/subscriptions/subscribe-steps.js';
import type { Flow } from '../../src/sip/transport/flow.js';
import { PHONE_ADDRESS, PHONE_PORT, subscribeBytes, type SubscribeSpec } from './helpers/notifier-harness.js';

const FLOW: Flow = { protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: PHONE_ADDRESS, remotePort: PHONE_PORT };

const deps: StepDeps = {
  registry: createDefaultRegistry(),
  accounts: new ListAccountResolver(() => [{ id: 'a'.repeat(32), realm: 'example.com' }], false),
  findDialog: () => undefined,
  storeWritable: () => true,
};

function run(spec: SubscribeSpec): Rejection | ReturnType<typeof newSubscribeContext> {
  const ctx = newSubscribeContext(parseMessage(subscribeBytes(spec, 'udp')) as SipRequest, FLOW);
  for (const step of SUBSCRIBE_STEPS) {
    const r = step(ctx, deps);
    if (r) return r;
  }
  return ctx;
}

const status = (x: ReturnType<typeof run>): number => ('status' in x ? x.status : 0);

t.test('the checks run in order: event 489, Accept 406, users 400, account 404, dialog 481, Expires 423 (RFC 6665 §4.2.1.1)', async (t) => {
  const everything: SubscribeSpec = { event: 'conference', accept: 'text/plain', fromUser: '', domain: 'nowhere.example', toTag: 'x', expires: 5 };
  t.equal(status(run(everything)), 489);
  t.equal(status(run({ ...everything, event: 'dialog' })), 406);
  t.equal(status(run({ ...everything, event: 'dialog', accept: null })), 400);
  t.equal(status(run({ ...everything, event: 'dialog', accept: null, fromUser: '2001' })), 404);
  t.equal(status(run({ ...everything, event: 'dialog', accept: null, fromUser: '2001', domain: 'example.com' })), 481);
  t.equal(status(run({ ...everything, event: 'dialog', accept: null, fromUser: '2001', domain: 'example.com', toTag: undefined })), 423);
});

t.test('a passing SUBSCRIBE yields the package, event id, lower-cased keys and granted expiry (RFC 6665 §8.2.1, §3.1.1)', async (t) => {
  const ctx = run({ event: 'presence;id=7', user: 'Alice', domain: 'EXAMPLE.com', expires: 7200, accept: 'application/*' });
  t.notOk('status' in ctx);
  if ('status' in ctx) return;
  t.equal(ctx.pkg!.name, 'presence');
  t.equal(ctx.eventId, '7');
  t.equal(ctx.resource, 'alice');
  t.equal(ctx.domain, 'example.com');
  t.equal(ctx.watcherUser, '2001');
  t.equal(ctx.accountId, 'a'.repeat(32));
  t.equal(ctx.granted, 3600);
});
