/** Limits of the live stream (docs/operator-api.md). */
export interface StreamLimits {
  /** A `: ping` comment this often (ms). Default 15 s. */
  heartbeatMs: number;
  /** Changes are gathered this long before a `lamp` event (ms). Default 150. */
  coalesceMs: number;
  /**
   * After a `lamp` event with at least `busyLamps` extensions, the next gathers this long instead (ms). Default 500:
   * under a heavy load each write to a stream's socket costs the SIP path's thread about as much as a hundred lamps,
   * so fewer and larger events; a board still follows within a second, and a quiet system keeps `coalesceMs`.
   */
  busyCoalesceMs: number;
  /** Extensions in one `lamp` event that make the next one wait `busyCoalesceMs`. Default 100. */
  busyLamps: number;
  /** Unsent bytes a stream may have waiting on its socket; beyond, the client is cut. Default 256 KiB. */
  maxBufferedBytes: number;
  /** Streams open at once; beyond, 503. Default 64. */
  maxStreams: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { heartbeatMs: 15_000, coalesceMs: 150, busyCoalesceMs: 500, busyLamps: 100, maxBufferedBytes: 256 * 1024, maxStreams: 64 };

