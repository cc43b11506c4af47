import type { Logger } from '../../lib/logger.js';
import type { SipMessage, SipRequest } from '../message/message.js';
import { serialize } from '../message/serialize.js';
import { createResponse, canRespond } from '../message/response-factory.js';
import { ParseError } from '../message/parse-error.js';
import { RequestParseError, requestOf } from '../message/request-parse-error.js';
import { parseMessage } from '../parser/parse-message.js';
import { formatHostPort, type Flow } from './flow.js';
import type { MessageHandler } from './transport.js';
import { stampVia } from './via-stamp.js';

/**
 * One received message's way in, the same for every transport: parse it, mark its top Via with where it came from
 * (RFC 3581 §4), hand it up; what does not parse is answered 400 (or 505) on its flow when a response can be built
 * (RFC 3261 §8.2.6, RFC 4475), else dropped. SipTransport (UDP, TCP, TLS) and WsTransport (WS, WSS) share it.
 */
export interface IntakeCounters {
  messagesIn: number;
  parseErrors: number;
  parseErrorsAnswered: number;
}

export interface MessageIntake {
  readonly stats: IntakeCounters;
  readonly logger: Logger;
  /** The handler messages go up to (set by onMessage after construction). */
  handler(): MessageHandler | undefined;
  /** Sends an error answer back on the flow. */
  send(bytes: Buffer, flow: Flow): Promise<void>;
}

/** `datagram`: a whole message in one piece (UDP, one WebSocket message), Content-Length optional (RFC 3261 §18.3). */
export function intakeMessage(ctx: MessageIntake, bytes: Buffer, flow: Flow, datagram: boolean): void {
  let msg: SipMessage;
  try {
    msg = parseMessage(bytes, { datagram });
  } catch (err) {
    answerUnparseable(ctx, err, flow);
    return;
  }
  if (msg.isRequest()) {
    try {
      stampVia(msg, flow.remoteAddress, flow.remotePort);
    } catch (err) {
      // A malformed top Via still gets its 400 (RFC 4475 §3.1.2.1): responses go back on the flow, not to sent-by.
      answerUnparseable(ctx, err instanceof ParseError ? new RequestParseError(err.message, msg, 400) : err, flow);
      return;
    }
  }
  ctx.stats.messagesIn++;
  try {
    ctx.handler()?.(msg, flow);
  } catch (err) {
    ctx.logger.error({ err: (err as Error).message, stack: (err as Error).stack }, 'message handler threw');
  }
}

/** Counts a message that failed to parse and sends its 400 (or 505) when one can be built. */
export function answerUnparseable(ctx: MessageIntake, err: unknown, flow: Flow): void {
  ctx.stats.parseErrors++;
  const answer = errorResponse(ctx.logger, err, flow);
  if (!answer) return;
  ctx.stats.parseErrorsAnswered++;
  ctx.send(answer, flow).catch((e: Error) => ctx.logger.debug({ err: e.message }, 'could not send 400'));
}

/**
 * The 400 (or 505) for a message that failed to parse, when a response can be built (RFC 3261 §8.2.6, RFC 4475);
 * otherwise undefined, logged at debug with the reason.
 */
export function errorResponse(logger: Logger, err: unknown, flow: Flow): Buffer | undefined {
  if (!(err instanceof ParseError)) {
    logger.error({ err: (err as Error)?.message, stack: (err as Error)?.stack }, 'unexpected error while parsing');
    return undefined;
  }
  const req: SipRequest | undefined = requestOf(err);
  if (!req || !canRespond(req)) {
    logger.debug({ remote: formatHostPort(flow.remoteAddress, flow.remotePort), reason: err.message }, 'unparseable message dropped');
    return undefined;
  }
  try {
    stampVia(req, flow.remoteAddress, flow.remotePort);
  } catch {
    // the top Via does not parse: the response copies it as it came and goes back on the flow
  }
  logger.debug({ remote: formatHostPort(flow.remoteAddress, flow.remotePort), reason: err.message, status: err.status }, 'answering unparseable request');
  return serialize(createResponse(req, err.status || 400));
}
