import type { PublicationRepository } from '../../../src/store/ports.js';
import type { PublicationRecord } from '../../../src/store/records.js';

/** The stored publications of one resource, in arrival (seq) order: what tests check after a PUBLISH or a reset. */
export async function storedPublicationsOf(publications: PublicationRepository, resource: string): Promise<PublicationRecord[]> {
  return (await publications.loadAll()).filter((p) => p.resource === resource);
}
