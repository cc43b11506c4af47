import type { SipMessage } from '../message/message.js';
import type { Flow, Target } from './flow.js';

export type MessageHandler = (msg: SipMessage, flow: Flow) => void;
export type FlowClosedHandler = (flow: Flow) => void;

/**
 * What the transaction layer needs from a transport (RFC 3261 §18). Implemented by `SipTransport`
 * (real UDP + TCP sockets) and by the loop transport in tests.
 */
export interface TransportLayer {
  /** Receives every message that parsed; incoming requests already carry Via received/rport (RFC 3581 §4). */
  onMessage(handler: MessageHandler): void;
  /** Told when a TCP connection closes, so holders of its flow can forget it. Optional for test doubles. */
  onFlowClosed?(handler: FlowClosedHandler): void;
  /**
   * Sends on an existing flow: UDP from the flow's local socket to its remote address and port, TCP on the flow's
   * connection. Rejects with TransportError `flow-closed` when that connection is gone.
   */
  send(msg: SipMessage | Buffer, flow: Flow): Promise<void>;
  /**
   * Sends to a target, reusing an open TCP connection to that ip:port (inbound ones included) or opening a new one;
   * resolves with the flow used so the caller can keep it for later requests.
   */
  sendTo(msg: SipMessage | Buffer, target: Target): Promise<Flow>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}
