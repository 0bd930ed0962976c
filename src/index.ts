// The package's main entry (package.json "main"). More exports (WorkerPool, NoThumbnailError,
// FloodWaitTooLongError, …) come with the layers that define them.
export type { TgvfsConfig } from './app/config';
export type * from './emulator/types';
export { startEmulator } from './emulator';
