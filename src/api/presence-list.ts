import { isArrayIndex } from '../lib/own-key-order.js';
import { OrderedHeap } from '../lib/ordered-heap.js';
import type { TimeSlicer } from '../lib/idle-slices.js';
import type { SubscriptionRecord } from '../store/records.js';
import type { StreamedData } from './streamed-envelope.js';
import { compareListed, compareToKey, encodeListKey, type Paging } from './list-paging.js';
import { resourceEntryPieces } from './presence-view.js';

/**
 * `GET …/presence` over many subscriptions without holding the event loop the SIP side shares (issue 18): the list
 * reads the live records (no copies), works in time slices (`TimeSlicer`), and its JSON is written as it is sent, a
 * subscription at a time, as fast as the client takes it; a subscription's NOTIFY body is rendered only when its
 * entry is written. Before, the whole tree of copies (every body rendered) and its 41 MB of JSON were built in one
 * turn of the loop: 3.0 s without SIP (bench/README.md).
 *
 * Without paging the text is the one JSON.stringify gave of the whole tree before: resources in JavaScript's own-key
 * order (extensions such as `1001` ascending, then the others in the order their first subscription was made); only a
 * resource or Call-ID named `__proto__`, which the object hid, is now listed. With paging (list-paging.ts) it is the
 * page's subscriptions in the paged order, grouped by resource the same way.
 */

type Listed = Readonly<SubscriptionRecord>;

/** Which subscriptions an account's list shows. */
export interface ListFilter {
  served: (domain: string) => boolean;
  event: string | undefined;
}

/** Bytes of JSON gathered before they are handed to the response as one piece. */
const PIECE_BYTES = 64 * 1024;

/** The whole list, or one page of it, as the envelope's streamed `data`. */
export async function presenceListData(
  records: readonly Listed[],
  filter: ListFilter,
  paging: Paging | undefined,
  slicer: TimeSlicer,
): Promise<StreamedData> {
  if (paging === undefined) {
    const groups = await groupInObjectOrder(records, filter, slicer);
    return { text: listText(groups, slicer), fields: () => ({}) };
  }
  const { page, next } = await selectPage(records, filter, paging, slicer);
  const fields: Record<string, unknown> = {};
  if (next !== undefined) fields.next_start_key = encodeListKey(next);
  fields.page_size = page.length;
  if (paging.startKeyText !== undefined) fields.start_key = paging.startKeyText;
  return { text: listText(runsByResource(page), slicer), fields: () => fields };
}

const matches = (rec: Listed, filter: ListFilter): boolean =>
  (filter.event === undefined || rec.event === filter.event) && filter.served(rec.domain);

/**
 * Resources with their subscriptions, in the order JSON.stringify wrote the tree that was built by walking the records
 * in order: array-index keys ascending (sorted in slices on a heap), then the rest in first-seen order.
 */
async function groupInObjectOrder(records: readonly Listed[], filter: ListFilter, slicer: TimeSlicer): Promise<Iterable<readonly Listed[]>> {
  const groups = new Map<string, Listed | Listed[]>();
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (matches(rec, filter)) {
      const group = groups.get(rec.resource);
      if (group === undefined) groups.set(rec.resource, rec);
      else if (Array.isArray(group)) group.push(rec);
      else groups.set(rec.resource, [group, rec]);
    }
    if ((i & 255) === 255 && slicer.due()) await slicer.pause();
  }
  const indices = new OrderedHeap<number>((a, b) => a - b);
  const others: string[] = [];
  let n = 0;
  for (const key of groups.keys()) {
    if (isArrayIndex(key)) indices.push(Number(key));
    else others.push(key);
    if ((++n & 255) === 0 && slicer.due()) await slicer.pause();
  }
  const ordered: string[] = [];
  while (indices.size > 0) {
    ordered.push(String(indices.pop()!));
    if ((ordered.length & 255) === 0 && slicer.due()) await slicer.pause();
  }
  for (const key of others) ordered.push(key);
  return (function* () {
    for (const key of ordered) {
      const group = groups.get(key)!;
      yield Array.isArray(group) ? group : [group];
    }
  })();
}

/**
 * The page: the first `pageSize` matching subscriptions at or after the start key in the paged order, kept on a
 * heap whose top is the largest kept (one more than the page, to know the next page's key), then taken off it
 * largest first, so neither step holds the loop whatever the number of subscriptions.
 */
async function selectPage(
  records: readonly Listed[],
  filter: ListFilter,
  paging: Paging,
  slicer: TimeSlicer,
): Promise<{ page: Listed[]; next: Listed | undefined }> {
  const keep = paging.pageSize === undefined ? Infinity : paging.pageSize + 1;
  const start = paging.startKey;
  const kept = new OrderedHeap<Listed>((a, b) => compareListed(b, a));
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (matches(rec, filter) && (start === undefined || compareToKey(rec, start) >= 0)) {
      if (kept.size < keep) kept.push(rec);
      else if (compareListed(rec, kept.peek()!) < 0) {
        kept.pop();
        kept.push(rec);
      }
    }
    if ((i & 255) === 255 && slicer.due()) await slicer.pause();
  }
  const next = kept.size > (paging.pageSize ?? Infinity) ? kept.pop() : undefined;
  const page = new Array<Listed>(kept.size);
  for (let i = page.length - 1; i >= 0; i--) {
    page[i] = kept.pop()!;
    if ((i & 255) === 0 && slicer.due()) await slicer.pause();
  }
  return { page, next };
}

/** A page's subscriptions (sorted, so a resource's are together) as one group per resource. */
function* runsByResource(page: readonly Listed[]): Generator<readonly Listed[]> {
  let from = 0;
  for (let i = 1; i <= page.length; i++) {
    if (i === page.length || page[i]!.resource !== page[from]!.resource) {
      yield page.slice(from, i);
      from = i;
    }
  }
}

/**
 * `{"subscriptions":{…}}`, written a subscription at a time into buffers of PIECE_BYTES handed on as they fill, pausing
 * whenever a slice is used up. Encoding each entry once into the buffer, rather than joining strings the stream then
 * encodes again, halves what a list of 100,000 allocates (about 60 MB of text).
 */
async function* listText(groups: Iterable<readonly Listed[]>, slicer: TimeSlicer): AsyncGenerator<Buffer> {
  const out = new PieceWriter();
  out.write('{"subscriptions":{');
  let comma = '';
  for (const recs of groups) {
    out.write(`${comma}${JSON.stringify(recs[0]!.resource)}:`);
    comma = ',';
    for (const piece of resourceEntryPieces(recs)) {
      const full = out.write(piece);
      if (full) yield full;
      if (slicer.due()) {
        const rest = out.take();
        if (rest) yield rest;
        await slicer.pause();
      }
    }
  }
  out.write('}}');
  const rest = out.take();
  if (rest) yield rest;
}

/** UTF-8 text gathered into buffers of PIECE_BYTES. */
class PieceWriter {
  private buf = Buffer.allocUnsafe(PIECE_BYTES);
  private used = 0;

  /** Adds `text`; returns the filled buffer when `text` did not fit beside what it held. */
  write(text: string): Buffer | undefined {
    // A UTF-16 unit takes at most 3 bytes in UTF-8 (a surrogate pair, two units, takes 4).
    if (this.used + text.length * 3 <= PIECE_BYTES) {
      this.used += this.buf.write(text, this.used, 'utf8');
      return undefined;
    }
    const full = this.take();
    if (text.length * 3 > PIECE_BYTES) {
      const big = Buffer.from(text, 'utf8');
      return full ? Buffer.concat([full, big]) : big;
    }
    this.used = this.buf.write(text, 0, 'utf8');
    return full;
  }

  /** What it holds, if anything; it starts a new buffer. */
  take(): Buffer | undefined {
    if (this.used === 0) return undefined;
    const out = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(PIECE_BYTES);
    this.used = 0;
    return out;
  }
}
