import type { Admission } from '../sip/transport/admission.js';
import type { AuthenticationResult, AuthorizationResult, RequestIdentity } from '../sip/ua/request-policy.js';
import type { PresencePolicy } from './presence-policy.js';

/**
 * Several policies as one (the abuse limits and the digest authentication each bring hooks), asked in the order
 * given, each hook only of the policies that have it:
 *
 *   admit              the first answer other than true wins (a drop or a 503)
 *   authenticate       the first refusal wins; the identity is the first one a policy established
 *   authorize...       the first refusal wins
 *
 * A hook none of them has stays absent, so the pipelines skip it as they do today.
 */
export function composePolicies(...policies: readonly PresencePolicy[]): PresencePolicy {
  if (policies.length === 1) return policies[0]!;
  const admits = policies.flatMap((p) => (p.admit ? [p.admit] : []));
  const authenticates = policies.flatMap((p) => (p.authenticate ? [p.authenticate] : []));
  const subscribes = policies.flatMap((p) => (p.authorizeSubscribe ? [p.authorizeSubscribe] : []));
  const publishes = policies.flatMap((p) => (p.authorizePublish ? [p.authorizePublish] : []));
  const composed: {
    -readonly [K in keyof PresencePolicy]: PresencePolicy[K];
  } = {};
  if (admits.length > 0) {
    composed.admit = (source): Admission => {
      for (const admit of admits) {
        const verdict = admit(source);
        if (verdict !== true) return verdict;
      }
      return true;
    };
  }
  if (authenticates.length > 0) {
    composed.authenticate = (input): AuthenticationResult => {
      let identity: RequestIdentity | undefined;
      for (const authenticate of authenticates) {
        const result = authenticate(input);
        if (!result.ok) return result;
        identity ??= result.identity;
      }
      return identity === undefined ? { ok: true } : { ok: true, identity };
    };
  }
  if (subscribes.length > 0) composed.authorizeSubscribe = (input) => firstRefusal(subscribes, input);
  if (publishes.length > 0) composed.authorizePublish = (input) => firstRefusal(publishes, input);
  return composed;
}

function firstRefusal<I>(hooks: readonly ((input: I) => AuthorizationResult)[], input: I): AuthorizationResult {
  for (const hook of hooks) {
    const result = hook(input);
    if (!result.ok) return result;
  }
  return ALLOWED;
}

const ALLOWED: AuthorizationResult = Object.freeze({ ok: true });
