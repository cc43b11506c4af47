/**
 * Which account serves a SIP domain (sip-behaviour.md: "The watched resource's domain selects the account (its realm)").
 * The SIP side (SUBSCRIBE and PUBLISH) asks this port; the admin API's account store implements it later.
 */
export interface AccountMatch {
  /** The account's id, or null while no account exists yet (a fresh install before the first account is made). */
  accountId: string | null;
  /** The realm that matched, or the domain asked for when the default account took it. */
  realm: string;
}

export interface AccountResolver {
  /** The account for `domain` (lower-cased host), or undefined when no account serves it (answer 404). */
  resolve(domain: string): AccountMatch | undefined;
}

/**
 * True when SIP requests for `domain` go to `accountId`: the resolver's own decision, so what the admin API lists and
 * resets for an account is exactly what its SIP side serves (its realm and, for the default account, every domain no
 * other account claims).
 */
export function servesDomain(resolver: AccountResolver, accountId: string, domain: string): boolean {
  return resolver.resolve(domain)?.accountId === accountId;
}

export interface AccountRealm {
  id: string;
  realm: string;
}

/**
 * Realms from a list, oldest account first. With `defaultForUnknown` the first account serves every domain no other
 * account claims (on a fresh install that keeps phones working before anyone has set a realm); without it unknown
 * domains are refused. With no account at all and the default on, every domain is served with `accountId: null`.
 */
export class ListAccountResolver implements AccountResolver {
  private byRealm = new Map<string, string>();
  private first: AccountRealm | undefined;

  constructor(
    accounts: () => readonly AccountRealm[],
    private readonly defaultForUnknown: boolean,
  ) {
    this.source = accounts;
    this.refresh();
  }

  private readonly source: () => readonly AccountRealm[];

  /** Re-reads the account list (call after accounts change). */
  refresh(): void {
    const list = this.source();
    this.byRealm = new Map(list.map((a) => [a.realm.toLowerCase(), a.id]));
    this.first = list[0];
  }

  resolve(domain: string): AccountMatch | undefined {
    const d = domain.toLowerCase();
    const id = this.byRealm.get(d);
    if (id !== undefined) return { accountId: id, realm: d };
    if (!this.defaultForUnknown) return undefined;
    return { accountId: this.first?.id ?? null, realm: d };
  }
}
