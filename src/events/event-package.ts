import { PistonError } from '../lib/errors.js';

/**
 * The contract between the generic notifier and an event package (RFC 6665 §7, "event packages").
 *
 * The notifier never branches on a package name: it asks the record for content types, expiry bounds, how to read a
 * PUBLISH body, how to fold a resource's publications into one state and how to render that state for one watcher.
 * Everything that crosses this boundary is a plain, JSON-able value, so the notifier can persist it as it is.
 *
 * How the notifier drives a package:
 * 1. PUBLISH with a body: `doc = pkg.parsePublication(body, contentType)` (EventBodyError → answer `status`), then
 *    `{doc, history} = pkg.applyPublication(doc, storedHistory, {now, etag, seq})`; store `doc` under the ETag with its
 *    arrival `seq`, and store `history` for (resource, package). A refresh without body keeps the stored doc.
 * 2. On any change to a resource (publication added, replaced, expired or removed; manual state; mailbox counts):
 *    for each `name` in `registry.affectedBy(changedPackage)` (or every package with watchers),
 *    `state = registry.aggregate(name, {entity, now, publications, history, manualState, mailbox})`.
 *    Comparing `JSON.stringify(state)` with the last one tells whether watchers need a NOTIFY.
 * 3. Per watcher: `body = pkg.render(state, {entity, version, allDialogs, messageAccount})`, Content-Type
 *    `pkg.contentType`; the watcher's `version` then rises by one (RFC 4235 §4.1).
 */

/** Manual state set through the admin API: ringing, busy, idle (api-contract.md, "presence ... set"). */
export type ManualState = 'early' | 'confirmed' | 'terminated';

export const MANUAL_STATES: readonly ManualState[] = ['early', 'confirmed', 'terminated'];

/** Message-waiting counts of one mailbox (RFC 3842 §5.2: new/old, and the urgent ones among them). */
export interface MailboxCounts {
  newMessages: number;
  oldMessages: number;
  urgentNew: number;
  urgentOld: number;
}

/** SUBSCRIBE and PUBLISH expiry bounds in seconds (RFC 6665 §3.1.1, RFC 3903 §4.1). */
export interface ExpiryBounds {
  default: number;
  min: number;
  max: number;
}

export const DEFAULT_EXPIRY: Readonly<ExpiryBounds> = Object.freeze({ default: 3600, min: 60, max: 3600 });

/**
 * Expiry bounds from optional overrides (config): unset or undefined fields keep 3600/60/3600, and a default that was
 * not given is brought inside the overridden [min, max]. The registry rejects bounds that are still inconsistent.
 */
export function resolveExpiry(overrides: Partial<ExpiryBounds> = {}): Readonly<ExpiryBounds> {
  const min = overrides.min ?? DEFAULT_EXPIRY.min;
  const max = overrides.max ?? DEFAULT_EXPIRY.max;
  const def = overrides.default ?? Math.min(Math.max(DEFAULT_EXPIRY.default, min), max);
  return Object.freeze({ default: def, min, max });
}

/** A parsed PUBLISH body. `format` names the document type; the rest is package-specific and JSON-able. */
export interface PublishedDocument {
  readonly format: string;
}

/**
 * The aggregated state of one resource for one package: JSON-able and never changed once computed, so comparing two
 * by content (lib/json-equal.ts) detects a change.
 */
export interface ResourceState {
  readonly format: string;
}

/** One stored publication (RFC 3903 §4.1): its current entity-tag, its arrival order and its (applied) document. */
export interface Publication<Doc extends PublishedDocument = PublishedDocument> {
  etag: string;
  /** Arrival sequence, increasing per resource: a higher seq is newer (RFC 3903 §4: applied in arrival order). */
  seq: number;
  doc: Doc;
}

export interface ApplyContext {
  /** Milliseconds since the Unix epoch (from the injected Clock). */
  now: number;
  etag: string;
  seq: number;
}

/** Result of applying a new or modified publication: the document to store and the resource's new history. */
export interface AppliedPublication<Doc extends PublishedDocument = PublishedDocument, History = unknown> {
  doc: Doc;
  history: History | undefined;
}

/**
 * What the notifier hands a package to compute a resource's state. It passes everything it knows about the resource;
 * each package reads what it needs.
 */
export interface AggregateInput {
  /** The resource's URI as written in bodies, `sip:ext@realm`. */
  entity: string;
  /** Milliseconds since the Unix epoch (from the injected Clock). */
  now: number;
  /** Live publications of this resource, keyed by event package name; any order (packages sort by `seq`). */
  publications: Readonly<Record<string, readonly Publication[] | undefined>>;
  /** Per-package history values as last returned by `applyPublication`, keyed by package name. */
  history?: Readonly<Record<string, unknown>>;
  manualState?: ManualState | undefined;
  /** Counts of the resource's mailbox, when set through the message-waiting service. */
  mailbox?: MailboxCounts | undefined;
  /** States of the packages named in `uses`, filled in by `EventPackageRegistry.aggregate`. */
  related?: Readonly<Record<string, ResourceState | undefined>>;
}

/** Per-watcher rendering parameters. */
export interface RenderContext {
  /** The resource's URI, `sip:ext@realm`. */
  entity: string;
  /** This watcher's document version (RFC 4235 §4.1): an unsigned 32-bit integer, the notifier counts it. */
  version: number;
  /** List every dialog instead of the single most interesting one (dialog package). Default false. */
  allDialogs?: boolean;
  /** The Message-Account URI (RFC 3842 §5.2); defaults to the one published, else the entity. */
  messageAccount?: string;
}

/**
 * An event package record. Method syntax (not function-typed properties) is deliberate: it lets a package declare its
 * own document and state types and still be registered as a plain `EventPackage`.
 */
export interface EventPackage<
  Doc extends PublishedDocument = PublishedDocument,
  State extends ResourceState = ResourceState,
  History = unknown,
> {
  /** The Event header token (RFC 6665 §7.2), e.g. `dialog`. */
  readonly name: string;
  /** The NOTIFY body type, exact and without parameters (some phones answer 415 to a charset parameter). */
  readonly contentType: string;
  /** A SUBSCRIBE Accept header must list one of these (or a matching wildcard) when present (RFC 6665 §3.1.1). */
  readonly acceptTypes: readonly string[];
  /** Content-Types accepted on PUBLISH (RFC 3903 §6: otherwise 415). */
  readonly publishTypes: readonly string[];
  readonly expires: Readonly<ExpiryBounds>;
  /** Names of other packages whose aggregated state this one reads from `AggregateInput.related`. */
  readonly uses: readonly string[];
  /** Reads a PUBLISH body; throws `EventBodyError` (415 wrong type, 400 unreadable or incomplete). */
  parsePublication(body: Buffer, contentType: string): Doc;
  /** Folds a newly accepted publication into the resource's history; returns the document to store. */
  applyPublication(doc: Doc, history: History | undefined, ctx: ApplyContext): AppliedPublication<Doc, History>;
  /** Computes the resource's current state from everything the notifier knows about it. */
  aggregate(input: AggregateInput): State;
  /** Renders the NOTIFY body for one watcher. */
  render(state: State, ctx: RenderContext): Buffer;
}

/** A PUBLISH body the package cannot take: `status` is the SIP response code to answer with (RFC 3903 §6). */
export class EventBodyError extends PistonError {
  constructor(
    readonly status: 400 | 415,
    message: string,
  ) {
    super(status === 415 ? 'unsupported_media_type' : 'bad_event_body', message);
  }
}

/**
 * The set of supported packages. Registration order is kept: it is the order of Allow-Events (RFC 6665 §8.2.2).
 */
export class EventPackageRegistry {
  private readonly packages = new Map<string, EventPackage>();

  register(pkg: EventPackage): this {
    if (this.packages.has(pkg.name)) throw new PistonError('duplicate_event_package', `event package ${pkg.name} is already registered`);
    checkExpiryBounds(pkg.name, pkg.expires);
    this.packages.set(pkg.name, pkg);
    return this;
  }

  /** Package names compare exactly: the event-type is matched byte by byte (RFC 6665 §8.2.1). */
  get(name: string): EventPackage | undefined {
    return this.packages.get(name);
  }

  has(name: string): boolean {
    return this.packages.has(name);
  }

  /** For Allow-Events, in registration order. */
  names(): string[] {
    return [...this.packages.keys()];
  }

  /** Every registered NOTIFY body type, for an OPTIONS Accept header. */
  contentTypes(): string[] {
    return [...new Set([...this.packages.values()].map((p) => p.contentType))];
  }

  /**
   * Whether a SUBSCRIBE's Accept list allows this package's body (RFC 6665 §3.1.1). An empty list means the header was
   * absent: the package's default type applies. Wildcards `*\/*` and `type/*` match (RFC 3261 §20.1).
   */
  accepts(name: string, accept: readonly string[]): boolean {
    const pkg = this.packages.get(name);
    if (!pkg) return false;
    if (accept.length === 0) return true;
    return accept.some((raw) => {
      const media = raw.split(';', 1)[0]!.trim().toLowerCase();
      if (media === '*/*') return true;
      if (media.endsWith('/*')) {
        const top = media.slice(0, -1);
        return pkg.acceptTypes.some((t) => t.startsWith(top));
      }
      return pkg.acceptTypes.includes(media);
    });
  }

  /**
   * Aggregates one package's state, first aggregating the packages it `uses` and passing their states in
   * `related`. This is how presence sees the dialog state without importing the dialog package.
   */
  aggregate(name: string, input: AggregateInput): ResourceState {
    return this.aggregateWith(name, input, new Map(), []);
  }

  /** Packages whose state depends on publications of `name` (itself first, then its dependents, registration order). */
  affectedBy(name: string): string[] {
    const affected = new Set<string>([name]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const pkg of this.packages.values()) {
        if (!affected.has(pkg.name) && pkg.uses.some((u) => affected.has(u))) {
          affected.add(pkg.name);
          grew = true;
        }
      }
    }
    return [...affected].filter((n) => this.packages.has(n));
  }

  private aggregateWith(name: string, input: AggregateInput, done: Map<string, ResourceState>, path: string[]): ResourceState {
    const cached = done.get(name);
    if (cached) return cached;
    const pkg = this.packages.get(name);
    if (!pkg) throw new PistonError('unknown_event_package', `no event package ${name}`);
    if (path.includes(name)) throw new PistonError('event_package_cycle', `event packages use each other: ${[...path, name].join(' -> ')}`);
    const related: Record<string, ResourceState | undefined> = { ...input.related };
    for (const dep of pkg.uses) {
      if (this.packages.has(dep)) related[dep] = this.aggregateWith(dep, input, done, [...path, name]);
    }
    const state = pkg.aggregate({ ...input, related });
    done.set(name, state);
    return state;
  }
}

function checkExpiryBounds(name: string, e: ExpiryBounds): void {
  const ok =
    Number.isInteger(e.min) && Number.isInteger(e.max) && Number.isInteger(e.default) && e.min >= 1 && e.min <= e.default && e.default <= e.max;
  if (!ok) {
    throw new PistonError('bad_expiry_bounds', `event package ${name}: expiry bounds must be integers with 1 <= min <= default <= max, got ${JSON.stringify(e)}`);
  }
}
