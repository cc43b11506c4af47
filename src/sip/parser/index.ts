export { parseMessage, MAX_HEADER_LINES, type ParseOptions } from './parse-message.js';
export { validateRequest } from './validate.js';
export {
  StreamFramer,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  type FramerOutput,
  type StreamFramerOptions,
} from './stream-framer.js';
