// Accounts, devices, users and token auth (the admin API's services), and the SIP side's account resolver.
export { ListAccountResolver, type AccountMatch, type AccountRealm, type AccountResolver } from './account-resolver.js';
export { createAccountServices, type AccountServices, type AccountServicesOptions } from './account-services.js';
export { AccountService } from './account-service.js';
export { DeviceService } from './device-service.js';
export { UserService } from './user-service.js';
export { AuthService, TOKEN_IDLE_MS, type IssuedToken } from './auth-service.js';
export {
  bootstrap,
  firstStartMessage,
  tokenCommand,
  apiUrl,
  createApiKeyCommand,
  unusedBootstrapKeyMessage,
  CREATE_API_KEY_COMMAND,
  DEFAULT_BOOTSTRAP_REALM,
  type BootstrapOptions,
  type BootstrapResult,
} from './bootstrap.js';
export { issueApiKey, isStoredApiKey } from './api-keys.js';
export { createStoreAccountResolver } from './store-account-resolver.js';
export { deviceResources, userResources, presenceUser } from './presence-resources.js';
export { ValidationError, UnknownIdError, InvalidCredentialsError, ForbiddenError, type FieldErrors, type FieldError } from './account-errors.js';
export { SecretHasher, md5Hex, sha256Hex } from './secrets.js';
export * as schemas from './schemas.js';
export { TrustedPeerService } from './trusted-peer-service.js';
export { TrustedPeerIndex, normalizeFingerprint } from './trusted-peer-index.js';
