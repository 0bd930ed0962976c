// Public surface of the telegram layer.
export { Worker } from './worker';
export type { WorkerOptions, DocumentLocation, ThumbnailLocation, GetDocOptions, GetFilePartOptions } from './worker';
export { docInfoFromMessage, fileLocation, isDocInfo } from './doc-info';
export type { DocInfo, MediaFileLocation, ThumbInfo } from './doc-info';
export { MetadataCache, CacheUrlError, CacheOpenError, openKeyvStore } from './metadata-cache';
export type { OpenKeyvStoreOptions, OpenedKeyvStore } from './metadata-cache';
export { redactCacheUrl } from './redis-store';
export { SessionStore } from './session-store';
export type { ChannelChange, ChannelDifference, ChannelMessage, ChannelUpdate } from './channel-updates';
export { destroyClient } from './gramjs/client-shutdown';
export { createDcSocketClass } from './gramjs/dc-socket';
export { installFastIge, isFastIgeInstalled } from './gramjs/fast-ige';
export { installFastDecrypt, isFastDecryptInstalled } from './gramjs/fast-decrypt';
export { trustRsaKey, isRsaKeyTrusted } from './gramjs/rsa-keys';
export { GRAMJS_VERSION } from './gramjs/version';
export { rsaFingerprint } from './rsa-fingerprint';
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
  TelegramServerError,
  WorkerStoppedError,
  isFileReferenceExpired,
} from './errors';
export { FileChangedError } from './doc-version';
export { toTgvfsError } from './gramjs/translate-error';
export type { ErrorContext } from '../util/errors';
