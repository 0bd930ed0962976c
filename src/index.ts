// The package's main entry (package.json "main"): the library API of DESIGN.md's contracts.
export type { TgvfsConfig, ChannelConfig, DcAddress, AuthConfig, LogLevel } from './config/schema';
export { loadConfig, ConfigError } from './config/config-file';
export { resolveConfig, configFromEnv } from './config/config-sources';
export { hashPassword, hashToken } from './config/credentials';
export { createHandler } from './app/handler';
export type { HandlerOptions, TgvfsHandler } from './app/handler';
export type * from './emulator/types';
export { startEmulator } from './emulator';
// The library's WorkerPool is the telegram pool with a stream engine over it (`pool.stream`).
export { StreamingPool as WorkerPool } from './app/streaming-pool';
export type { StreamingPoolOptions as WorkerPoolOptions } from './app/streaming-pool';
export { PoolStartError } from './telegram/worker-pool';
export { StreamEngine, RangeNotSatisfiableError, EngineError } from './stream/stream-engine';
export type { EngineStats, StreamEngineOptions } from './stream/stream-engine';
export { Worker } from './telegram/worker';
export type { DocInfo, ThumbInfo } from './telegram/doc-info';
export type { MediaKind } from './util/media';
export { FileChangedError } from './telegram/doc-version';
export { TgvfsError } from './util/errors';
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
} from './telegram/errors';
