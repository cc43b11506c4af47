import { z } from 'zod';
import { named } from './answer-schemas.js';

/** Answers of the operator routes (docs/operator-api.md): history and explanation. */

const lamp = z.enum(['terminated', 'early', 'confirmed']).describe('The lamp word: idle, ringing, busy');
const ms = z.number().int().describe('ms since the Unix epoch');

export const historyEntryAnswer = named(
  'HistoryEntry',
  z
    .looseObject({
      seq: z.number().int().min(1).describe('Rises with every event of the server, across restarts'),
      at: ms,
      kind: z.enum(['publish', 'publish-expired', 'manual', 'state', 'subscribe', 'unsubscribe', 'notify', 'notify-result']),
      resource: z.string().describe('user@domain'),
      event: z.string().optional().describe('The event package (absent for manual)'),
    })
    .describe('One event of a resource; the fields per kind are in docs/operator-api.md'),
);

export const historyAnswer = z.array(historyEntryAnswer).describe('Newest first');

const actor = z
  .strictObject({
    account_id: z.string(),
    user_id: z.string().nullable(),
    method: z.string().describe('api_key or credentials'),
    request_id: z.string(),
  })
  .nullable();

const publisher = z
  .strictObject({ source: z.string(), transport: z.string(), from: z.string(), user_agent: z.string().nullable(), call_id: z.string() })
  .nullable()
  .describe('null when published before the last restart');

const answer = z.union([z.strictObject({ status: z.number().int() }), z.strictObject({ failure: z.union([z.string(), z.number().int()]) })]);

export const explainAnswer = named(
  'Explanation',
  z.strictObject({
    extension: z.string(),
    state: lamp,
    cause: z.enum(['manual', 'publication', 'none']).describe('What makes the lamp show its state'),
    manual: z
      .strictObject({ state: z.string(), resource: z.string(), at: ms.nullable(), by: actor })
      .nullable(),
    publications: z.array(
      z.strictObject({
        resource: z.string(),
        event: z.string(),
        etag: z.string(),
        state: lamp.optional().describe('dialog publications only'),
        expires_in: z.number().int().min(0),
        updated_at: ms,
        publisher,
      }),
    ),
    watchers: z.array(
      z.strictObject({
        resource: z.string(),
        event: z.string(),
        watcher: z.string(),
        call_id: z.string(),
        contact: z.string(),
        transport: z.string(),
        source: z.string().describe("ip:port of the watcher's requests; empty for another node's watcher (cluster mode)"),
        expires_in: z.number().int().min(0),
        version: z.number().int().min(0),
        last_notify: z
          .strictObject({
            cseq: z.number().int(),
            at: ms.nullable(),
            final: z.boolean().nullable(),
            answer: answer.nullable().describe('null while in flight'),
            rtt_ms: z.number().int().nullable(),
          })
          .nullable(),
        stalker: z.string().optional().describe('Cluster mode: the node that holds the dialog'),
      }),
    ),
    recent: z.array(historyEntryAnswer).describe('The last 10 history entries, newest first'),
  }),
);

export const streamAnswer = z
  .string()
  .describe('Server-Sent Events: retry, then snapshot, lamp and end events and ": ping" comments (docs/operator-api.md)');
