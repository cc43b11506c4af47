import type { Logger } from '../../lib/logger.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Flow } from '../transport/flow.js';
import type { TransportLayer } from '../transport/transport.js';
import type { ServerTransaction } from './server-transaction.js';

/**
 * Answers without a transaction (RFC 3261 §8.2.7 stateless UAS behaviour): used for INVITE, which the UA rejects
 * with 405, and for ACK, which takes no response. A retransmitted INVITE simply gets the same answer again.
 */
export class StatelessResponder implements ServerTransaction {
  constructor(
    readonly request: SipRequest,
    readonly flow: Flow,
    private readonly transport: TransportLayer,
    private readonly logger: Logger,
  ) {}

  async respond(res: SipResponse): Promise<boolean> {
    try {
      await this.transport.send(res, this.flow);
      return true;
    } catch (err) {
      this.logger.debug({ status: res.status, err: (err as Error).message }, 'stateless response could not be sent');
      return false;
    }
  }
}
