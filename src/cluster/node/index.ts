// Cluster mode's node side (cluster.md §7, §8): shared presence state behind the presentity service's seam.
export { ClusterNode, type ClusterNodeOptions, type ClusterPart, type ClusterHealth } from './cluster-node.js';
export type { NodeContext, NodePresentity } from './node-context.js';
export { SharedSecretPart, type SharedSecretOptions } from './shared-secret-part.js';
