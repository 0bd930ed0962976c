// What the stream engine needs from below (telegram/ implements it); nothing here knows GramJS.

/** One file as the engine sees it: a stable cache key (changes when the content does) and its size. */
export interface FileRef {
  key: string;
  size: number;
}

export interface PartSource<F extends FileRef = FileRef> {
  /** Bytes `offset`…`offset+limit−1` (a legal getFile part; shorter at the end of the file). */
  getPart(file: F, offset: number, limit: number, signal: AbortSignal): Promise<Buffer>;
  /** How many parts may usefully be in flight at once (e.g. 2 per healthy worker). */
  capacity(): number;
}
