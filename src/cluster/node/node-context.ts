import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { PresentityService } from '../../presentity/presentity-service.js';
import type { ClusterEngine } from '../engine-port.js';
import type { ClusterLink } from './cluster-link.js';
import type { ResourceLanes } from './resource-lanes.js';

/** What the node's cluster pieces use of the presentity service (its cluster seam, presentity-replica.ts). */
export type NodePresentity = Pick<
  PresentityService,
  | 'held'
  | 'release'
  | 'exportResource'
  | 'installResource'
  | 'publishHere'
  | 'handlePublishAgain'
  | 'publishResource'
  | 'routePublish'
  | 'resources'
  | 'reset'
  | 'setManualState'
  | 'setMailbox'
>;

/** Shared by the pieces of one node's cluster mode (cluster-node.ts builds it). */
export interface NodeContext {
  readonly engine: ClusterEngine;
  readonly presentity: NodePresentity;
  /** This node's name: the stream's `o`rigin of its commits, the directory's `stalker`. */
  readonly node: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly lanes: ResourceLanes;
  /** The engine's rev of each resource as this node last applied or committed it. */
  readonly revs: Map<string, number>;
  readonly link: ClusterLink;
}
