export { Notifier, type NotifierOptions, type NotifyChannel } from './notifier.js';
export type { NotifyFailure, RemovalReason } from '../feed/presence-feed.js';
export type { PresentityChange, PresentitySource } from './presentity-source.js';
export { MAX_STRIKES, judgeNotifyResult, type NotifyVerdict } from './notify-verdict.js';
export { SUBSCRIBE_STEPS, type Rejection, type SubscribeContext, type SubscribeStep } from './subscribe-steps.js';
