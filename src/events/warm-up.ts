import { MANUAL_STATES, type EventPackageRegistry } from './event-package.js';

/**
 * One round of every package's hot path on generated data: aggregate a manual state, render it, read the rendered
 * body back as a PUBLISH (when the package accepts its own type), apply it, aggregate and render again. Nothing is
 * stored or sent. V8 runs new code interpreted until it has seen it often: a fresh process read its first 2,000
 * dialog-info bodies at about 230 µs each and later ones at about 35-60 µs (fast-xml-parser), so the first PUBLISH
 * burst after a start paid several times the steady cost. Rounds run in idle slices after `ready` (main.ts).
 */
export function warmUpRound(registry: EventPackageRegistry, round: number): void {
  // Entities and tags differ per round, as real ones do, so string paths see varied input.
  const entity = `sip:w${round % 1009}@warm-up.invalid`;
  const now = 1_700_000_000_000 + round * 1000;
  const etag = `warm${round}`;
  for (const name of registry.names()) {
    const pkg = registry.get(name)!;
    const manual = registry.aggregate(name, {
      entity,
      now,
      publications: {},
      manualState: MANUAL_STATES[round % MANUAL_STATES.length],
      mailbox: { newMessages: round % 4, oldMessages: round % 3, urgentNew: 0, urgentOld: 0 },
    });
    const body = pkg.render(manual, { entity, version: round });
    if (!pkg.publishTypes.includes(pkg.contentType)) continue;
    const applied = pkg.applyPublication(pkg.parsePublication(body, pkg.contentType), undefined, { now, etag, seq: round });
    const state = registry.aggregate(name, {
      entity,
      now,
      publications: { [name]: [{ etag, seq: round, doc: applied.doc }] },
      history: { [name]: applied.history },
    });
    pkg.render(state, { entity, version: round + 1 });
  }
}
