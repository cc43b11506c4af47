// The presentity service: published (RFC 3903) and manual state of resources, announced to the notifier.
export { PresentityService, type PresentityOptions } from './presentity-service.js';
export type { ResourceChange, ResourceChangeListener } from './resource-change.js';
export type { ResourceDescription, PublicationSummary } from './resource-description.js';
export { resourceKey, splitResourceKey, entityOf, type ResourceKey } from './resource-key.js';
