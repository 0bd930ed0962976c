// Public surface of the telegram layer.
export { Worker } from './worker';
export type { WorkerOptions, DocumentLocation, ThumbnailLocation, GetDocOptions, GetFilePartOptions } from './worker';
export { docInfoFromMessage, documentLocation, isDocInfo } from './doc-info';
export type { DocInfo, ThumbInfo } from './doc-info';
export { MetadataCache, CacheUrlError, CacheOpenError, openKeyvStore } from './metadata-cache';
export type { OpenKeyvStoreOptions, OpenedKeyvStore } from './metadata-cache';
export { redactCacheUrl } from './redis-store';
export { SessionStore } from './session-store';
export { destroyClient } from './client-shutdown';
export { createDcSocketClass } from './dc-socket';
export { installFastIge, isFastIgeInstalled } from './fast-ige';
export { installFastDecrypt, isFastDecryptInstalled } from './fast-decrypt';
export { rsaFingerprint, trustRsaKey, isRsaKeyTrusted } from './rsa-keys';
export { parseProxyUrl } from './proxy';
export { parseBotId } from './bot-token';
export { redactToken } from '../util/secrets';
export type { CallObserver, UpstreamCall } from './call-observer';
export { TgvfsError } from '../util/errors';
export {
  TelegramRpcError,
  FloodWaitError,
  FloodWaitTooLongError,
  InvalidTokenError,
  NoThumbnailError,
  MessageNotFoundError,
  NotADocumentError,
  ChannelInaccessibleError,
  TelegramConnectionError,
  WorkerStoppedError,
  isFileReferenceExpired,
  toTgvfsError,
} from './errors';
export type { ErrorContext } from '../util/errors';
