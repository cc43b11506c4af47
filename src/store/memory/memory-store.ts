import { cloneRecord } from '../clone.js';
import type {
  AccountRepository,
  ApiKeyRepository,
  AuthTokenRepository,
  DeviceRepository,
  MailboxRepository,
  ResourceStateRepository,
  StoreBackend,
  StoreReadyInfo,
  StoreWriteHealth,
  TrustedPeerRepository,
  UserRepository,
} from '../ports.js';
import type { MailboxRecord, ResourceStateRecord } from '../records.js';
import { StoreError } from '../store-error.js';
import {
  MemoryAccountRepository,
  MemoryApiKeyRepository,
  MemoryAuthTokenRepository,
  MemoryDeviceRepository,
  MemoryTrustedPeerRepository,
  MemoryUserRepository,
} from './memory-admin.js';
import { MemoryKeyedRepository } from './memory-keyed.js';
import { MemoryPublicationRepository } from './memory-publications.js';
import { MemorySubscriptionRepository } from './memory-subscriptions.js';

const ALWAYS_WRITABLE: StoreWriteHealth = Object.freeze({ writable: true, fault: null, failedFlushes: 0 });

/**
 * A store that lives and dies with the process: for tests, the start-up rehearsal and running without a data
 * directory. It serves both ports (admin data and presence state) from Maps. Every write is "durable" at once, so
 * `flush()` has nothing to do.
 */
export class MemoryStore implements StoreBackend {
  readonly ready: StoreReadyInfo = { backend: 'memory', location: null, schemaVersion: null, migratedFrom: null };
  readonly subscriptions: MemorySubscriptionRepository;
  readonly publications: MemoryPublicationRepository;
  readonly resources: ResourceStateRepository;
  readonly mailboxes: MailboxRepository;
  readonly accounts: AccountRepository;
  readonly devices: DeviceRepository;
  readonly users: UserRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly authTokens: AuthTokenRepository;
  readonly trustedPeers: TrustedPeerRepository;
  private closed = false;

  constructor() {
    const assertOpen = (): void => {
      if (this.closed) throw new StoreError('store_closed', 'the memory store is closed');
    };
    this.subscriptions = new MemorySubscriptionRepository(assertOpen);
    this.publications = new MemoryPublicationRepository(assertOpen);
    this.resources = new MemoryKeyedRepository<ResourceStateRecord>(
      (r) => r.resource,
      cloneRecord.resourceState,
      assertOpen,
    );
    this.mailboxes = new MemoryKeyedRepository<MailboxRecord>((r) => r.mailbox, cloneRecord.mailbox, assertOpen);
    this.accounts = new MemoryAccountRepository(assertOpen);
    this.devices = new MemoryDeviceRepository(assertOpen);
    this.users = new MemoryUserRepository(assertOpen);
    this.apiKeys = new MemoryApiKeyRepository(assertOpen);
    this.authTokens = new MemoryAuthTokenRepository(assertOpen);
    this.trustedPeers = new MemoryTrustedPeerRepository(assertOpen);
  }

  flush(): void {
    if (this.closed) throw new StoreError('store_closed', 'the memory store is closed');
  }

  /** Memory takes every write. */
  writeHealth(): StoreWriteHealth {
    return ALWAYS_WRITABLE;
  }

  close(): void {
    this.closed = true;
  }
}

export function createMemoryStore(): StoreBackend {
  return new MemoryStore();
}
