import { subscriptionId } from '../../../src/store/keys.js';
import type {
  MailboxRecord,
  PublicationRecord,
  ResourceStateRecord,
  SubscriptionRecord,
} from '../../../src/store/records.js';

export const T0 = 1_700_000_000_000;

/** A fully populated subscription; every field differs from its neighbours so a swapped column shows up. */
export function subscriptionRecord(over: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  const callId = over.callId ?? 'a84b4c76e66710@pc33.example.com';
  const localTag = over.localTag ?? 'srv1';
  const remoteTag = over.remoteTag ?? 'w1';
  return {
    id: subscriptionId(callId, localTag, remoteTag),
    callId,
    localTag,
    remoteTag,
    event: 'dialog',
    eventId: null,
    resource: '1001',
    domain: 'pbx.example.com',
    accountId: '0123456789abcdef0123456789abcdef',
    watcherUser: '1002',
    watcherDomain: 'pbx.example.com',
    watcherUri: 'sip:1002@pbx.example.com',
    resourceUri: 'sip:1001@pbx.example.com',
    contact: 'sip:1002@192.0.2.7:5062;transport=udp',
    routeSet: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'],
    flow: {
      protocol: 'udp',
      localAddress: '192.0.2.1',
      localPort: 5060,
      remoteAddress: '192.0.2.7',
      remotePort: 5062,
      connectionId: null,
    },
    localCseq: 7,
    remoteCseq: 3,
    version: 5,
    acceptTypes: ['application/dialog-info+xml'],
    grantedExpires: 3600,
    expiresAt: T0 + 3_600_000,
    createdAt: T0 - 10_000,
    refreshedAt: T0,
    strikes: 1,
    lastNotify: { cseq: 7, reply: 200, body: '<dialog-info version="4"/>' },
    node: 'piston@node1',
    ...over,
  };
}

/** A body with NUL, CR LF and bytes above 0x7f: any text round trip would mangle it. */
export const AWKWARD_BODY = Buffer.from([0x3c, 0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x80, 0xc3, 0x28, 0x00, 0x3e]);

export function publicationRecord(over: Partial<PublicationRecord> = {}): PublicationRecord {
  return {
    resource: '1001@pbx.example.com',
    event: 'dialog',
    etag: 'e1',
    seq: 1,
    contentType: 'application/dialog-info+xml',
    body: Buffer.from(AWKWARD_BODY),
    document: { dialogs: [{ id: 'd1', state: 'early', remote: { identity: 'sip:2000@x', display: null } }] },
    expiresAt: T0 + 3_600_000,
    updatedAt: T0,
    ...over,
  };
}

export function resourceStateRecord(over: Partial<ResourceStateRecord> = {}): ResourceStateRecord {
  return {
    resource: '1001@pbx.example.com',
    manualState: 'confirmed',
    history: { terminated: ['d1', 'd2'], nested: { ok: true, n: 1.5, none: null } },
    updatedAt: T0,
    ...over,
  };
}

export function mailboxRecord(over: Partial<MailboxRecord> = {}): MailboxRecord {
  return {
    mailbox: '1001@pbx.example.com',
    newMessages: 2,
    oldMessages: 8,
    urgentNew: 1,
    urgentOld: 0,
    updatedAt: T0,
    ...over,
  };
}
