import { servesDomain } from '../accounts/account-resolver.js';
import type { AccountServices } from '../accounts/account-services.js';
import { ValidationError } from '../accounts/account-errors.js';
import { deviceResources, userResources } from '../accounts/presence-resources.js';
import { SIP_USER_PATTERN } from '../accounts/schemas.js';
import { MANUAL_STATES, type ManualState } from '../events/event-package.js';
import type { ManualActor, PresenceFeed } from '../feed/presence-feed.js';
import type { Clock } from '../lib/clock.js';
import { TimeSlicer } from '../lib/idle-slices.js';
import type { Logger } from '../lib/logger.js';
import { resourceKey } from '../presentity/resource-key.js';
import type { AccountRecord } from '../store/records.js';
import type { ClusterSubscriptionList, PresenceControl, SubscriptionView } from './api-deps.js';
import { parsePaging } from './list-paging.js';
import { presenceListData } from './presence-list.js';
import { resourceView } from './presence-view.js';
import type { StreamedData } from './streamed-envelope.js';

export interface PresenceAdminOptions {
  services: AccountServices;
  presentity: PresenceControl;
  notifier: SubscriptionView;
  clock: Clock;
  logger: Logger;
  events: readonly string[];
  /** Told of each manual command and who gave it (the history), when given. */
  feed?: PresenceFeed;
  /** Cluster mode: the list shows every node's subscriptions (api-contract.md, "In cluster mode"). */
  clusterList?: ClusterSubscriptionList;
}

/** Who gave a command: the token's account and user, its kind, the request id (the history's `manual` entries). */
export type CommandActor = ManualActor;

/** The list's work runs in slices of this long, then gives the event loop a turn (SIP comes first). */
const LIST_SLICE_MS = 5;

type Command = { action: 'reset' } | { action: 'set'; state: ManualState };

const badAction = (): ValidationError =>
  ValidationError.one('action', 'invalid', 'Field must be set to a valid action', 'invalid');
const badState = (): ValidationError =>
  ValidationError.one('state', 'invalid', 'Field must be set to a valid state', 'invalid');

/**
 * The presence side of the admin API (api-contract.md, presence): listing live subscriptions of an account, and
 * reset / set commands on extensions, devices and users, turned into presentity calls on `user@domain`.
 *
 * An account lists and commands every domain its SIP side serves (the account resolver's decision): its realm and,
 * for the default account, every domain no other account claims. Otherwise a phone subscribed at an address the
 * realm does not name (`1001@127.0.0.1`) gets NOTIFYs that no list shows and no reset reaches.
 */
export class PresenceAdmin {
  private readonly logger: Logger;

  constructor(private readonly opts: PresenceAdminOptions) {
    this.logger = opts.logger.child({ module: 'presence-admin' });
  }

  /**
   * `GET …/presence`: the whole list, or a page of it with Kazoo's `page_size` / `start_key` (list-paging.ts). The
   * parameters are checked first (400); the subscriptions are then chosen and ordered in time slices, and the answer
   * written as it is sent (presence-list.ts), so a list of 100,000 never holds the SIP side's event loop for long.
   */
  async list(account: AccountRecord, query: Record<string, unknown>): Promise<StreamedData> {
    // A repeated ?event= is ignored, as it always was.
    const event = typeof query.event === 'string' ? query.event : undefined;
    if (event !== undefined && !this.opts.events.includes(event)) {
      throw ValidationError.one('event', 'enum', `Value must be one of ${this.opts.events.join(', ')}`, this.opts.events.join('|'));
    }
    const paging = parsePaging(query);
    const filter = { served: this.servedBy(account), event };
    const listed = this.opts.clusterList ? await this.opts.clusterList.list() : undefined;
    const slicer = new TimeSlicer(LIST_SLICE_MS);
    // Even the first slice waits its turn, so lists that arrive together do not run a slice each in one turn.
    await slicer.pause();
    const data = await presenceListData(listed?.records ?? this.opts.notifier.liveRecords(), filter, paging, slicer);
    // Only this node's subscriptions could be listed: Kazoo's flag for a partial answer.
    return listed?.partial ? { text: data.text, fields: () => ({ ...data.fields(), timeout: true }) } : data;
  }

  /**
   * `GET …/presence/{EXTENSION}`. Cluster mode: the watchers other nodes hold too, from the directory (`stalker` = the
   * node; their flow and route stay there), after this node's; `partial` when the directory could not be read.
   */
  async describe(account: AccountRecord, extension: string): Promise<{ view: unknown; partial: boolean }> {
    const key = resourceKey(checkedExtension(extension), account.realm);
    const local = this.opts.notifier.watchersOf(key);
    const remote = this.opts.clusterList?.remoteWatchersOf ? await this.opts.clusterList.remoteWatchersOf(key) : undefined;
    const watchers = remote && remote.records.length > 0 ? [...local, ...remote.records] : local;
    return { view: resourceView(this.opts.presentity.describe(key), watchers, this.opts.clock.now()), partial: remote?.partial ?? false };
  }

  /** `POST …/presence/{EXTENSION}`: a reset (the body needs no action); `set` works here too. */
  async extension(account: AccountRecord, extension: string, data: unknown, by: CommandActor | null = null): Promise<string> {
    const user = checkedExtension(extension);
    const action = field(data, 'action');
    const cmd: Command = action === undefined ? { action: 'reset' } : parseCommand(data);
    await this.apply(account, [user], cmd, by);
    return cmd.action === 'reset' ? `reset command sent for extension ${extension}` : 'command sent';
  }

  async device(account: AccountRecord, deviceId: string, data: unknown, by: CommandActor | null = null): Promise<string> {
    const device = this.opts.services.devices.get(account.id, deviceId);
    const cmd = parseCommand(data);
    await this.apply(account, deviceResources(device), cmd, by);
    return 'command sent';
  }

  async user(account: AccountRecord, userId: string, data: unknown, by: CommandActor | null = null): Promise<string> {
    const user = this.opts.services.users.get(account.id, userId);
    const cmd = parseCommand(data);
    const resources = userResources(user, this.opts.services.devices.ownedBy(account.id, userId));
    if (resources.length === 0) return 'nothing to send command to';
    await this.apply(account, resources, cmd, by);
    return 'command sent';
  }

  private async apply(account: AccountRecord, users: readonly string[], cmd: Command, by: CommandActor | null): Promise<void> {
    const served = this.servedBy(account);
    const cluster = this.opts.clusterList;
    for (const user of users) {
      // Cluster mode: domains where only other nodes' phones watch the user (the realm is always commanded).
      const remote = cluster?.watchedDomains ? await cluster.watchedDomains(user, [account.realm.toLowerCase()]) : [];
      for (const domain of this.domainsFor(account, user, served, remote)) {
        const key = resourceKey(user, domain);
        // Before the change, so the history shows the command ahead of the state change it causes.
        this.opts.feed?.emit({ kind: 'manual', resource: key, action: cmd.action, state: cmd.action === 'set' ? cmd.state : null, by });
        if (cmd.action === 'reset') this.opts.presentity.reset(key);
        else this.opts.presentity.setManualState(key, cmd.state);
        this.logger.info({ account: account.id, resource: key, ...cmd }, 'presence command');
      }
    }
  }

  /**
   * Where a command on `user` lands: always `user@realm` (a set there is replayed to later subscribers), plus every
   * other served domain where the user part is watched (here, or in cluster mode on another node: `remote`) or has
   * state now.
   */
  private domainsFor(account: AccountRecord, user: string, served: (domain: string) => boolean, remote: readonly string[]): string[] {
    const realm = account.realm.toLowerCase();
    const domains = new Set([realm]);
    for (const d of this.opts.notifier.watchedDomains(user)) if (served(d)) domains.add(d);
    for (const d of remote) if (served(d)) domains.add(d);
    for (const d of this.opts.presentity.domainsOf(user)) if (served(d)) domains.add(d);
    return [...domains];
  }

  /** The account resolver's decision per domain, remembered for one request (many subscriptions share a domain). */
  private servedBy(account: AccountRecord): (domain: string) => boolean {
    const seen = new Map<string, boolean>();
    return (domain) => {
      let yes = seen.get(domain);
      if (yes === undefined) {
        yes = servesDomain(this.opts.services.resolver, account.id, domain);
        seen.set(domain, yes);
      }
      return yes;
    };
  }
}

function field(data: unknown, name: string): unknown {
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>)[name] : undefined;
}

/** Actions and states are exact and case-sensitive (api-contract.md). */
function parseCommand(data: unknown): Command {
  const action = field(data, 'action');
  if (action === 'reset') return { action: 'reset' };
  if (action !== 'set') throw badAction();
  const state = field(data, 'state');
  if (typeof state !== 'string' || !(MANUAL_STATES as readonly string[]).includes(state)) throw badState();
  return { action: 'set', state: state as ManualState };
}

/** An extension is a SIP user part (`*3101`, `110011`); anything else could never name a resource. */
function checkedExtension(extension: string): string {
  if (!SIP_USER_PATTERN.test(extension)) {
    throw ValidationError.one('extension', 'pattern', 'Value must be a SIP user part (1-64 characters)', 'pattern');
  }
  return extension;
}
