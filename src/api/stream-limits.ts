/** Limits of the live stream (docs/operator-api.md). */
export interface StreamLimits {
  /** A `: ping` comment this often (ms). Default 15 s. */
  heartbeatMs: number;
  /** Changes are gathered this long before a `lamp` event (ms). Default 150. */
  coalesceMs: number;
  /** Unsent bytes a stream may have waiting on its socket; beyond, the client is cut. Default 256 KiB. */
  maxBufferedBytes: number;
  /** Streams open at once; beyond, 503. Default 64. */
  maxStreams: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { heartbeatMs: 15_000, coalesceMs: 150, maxBufferedBytes: 256 * 1024, maxStreams: 64 };

