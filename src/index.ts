// The package's main entry (package.json "main"): the library API of DESIGN.md's contracts.
export type { TgvfsConfig, ChannelConfig, DcAddress } from './app/config';
export type * from './emulator/types';
export { startEmulator } from './emulator';
export { WorkerPool, PoolStartError } from './telegram/worker-pool';
export type { WorkerPoolOptions } from './telegram/worker-pool';
export { RangeNotSatisfiableError } from './telegram/pool-stream';
export { Worker } from './telegram/worker';
export type { DocInfo, ThumbInfo } from './telegram/doc-info';
export {
  TgvfsError,
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
