import type { AccountResolver } from '../../accounts/account-resolver.js';
import type { SipRequest } from '../../sip/message/message.js';
import { ParseError } from '../../sip/message/parse-error.js';
import { resourceKey, type ResourceKey } from '../resource-key.js';
import { PublishRejection } from './publish-rejection.js';

export interface PublishTarget {
  resource: ResourceKey;
  accountId: string | null;
  /** The Request-URI's host, lower-cased. */
  domain: string;
}

/**
 * RFC 3903 §6 step 1: the Request-URI names the presentity. Its domain must belong to an account (else 404, we are not
 * responsible for it) and it must have a user part (else there is no resource to publish for: 400).
 */
export function readTarget(req: SipRequest, accounts: AccountResolver): PublishTarget | PublishRejection {
  let user: string | undefined;
  let host: string;
  try {
    const uri = req.requestUri;
    user = uri.user;
    host = uri.host.toLowerCase();
  } catch (err) {
    if (err instanceof ParseError) return new PublishRejection(400, `bad Request-URI: ${err.message}`);
    throw err;
  }
  const account = host ? accounts.resolve(host) : undefined;
  if (!account) return new PublishRejection(404, `no account serves the domain ${host || '(none)'} (RFC 3903 §6 step 1)`);
  if (!user) return new PublishRejection(400, 'the Request-URI has no user part: no resource to publish for (RFC 3903 §6 step 1)');
  return { resource: resourceKey(user, host), accountId: account.accountId, domain: host };
}
