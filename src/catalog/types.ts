// What the catalog knows about files, and the narrow read interface the VFS uses. Everything
// here is answered from the keyv store: listing never waits on Telegram.
import type { MediaKind } from '../util/media';

export interface CatalogThumb {
  type: string;
  w: number;
  h: number;
  size: number;
}

export interface CatalogFile {
  /** Channel id in the -100… form. */
  channel: number;
  msgId: number;
  /** Document id (decimal): changes when the file does; part of ETags and cache keys. */
  docId: string;
  size: number;
  mimeType: string;
  /** File name from the document, or null (the VFS then makes one from type and id). */
  name: string | null;
  /** Message date, unix seconds. */
  date: number;
  /** Downloadable thumbnail sizes (not the stripped one). */
  thumbs: CatalogThumb[];
  /** Photo, video, round video, audio or voice; absent for any other document. */
  media?: MediaKind;
  /** An audio's `performer - title`, when it has either. */
  title?: string;
  /** The caption's first line, when there is a caption. */
  caption?: string;
}

export interface CatalogChannel {
  id: number;
  /** Configured name: the folder name in the VFS. */
  name: string;
}

export interface CatalogReader {
  /** Configured channels, in config order. */
  channels(): CatalogChannel[];
  /** Every known file of a channel, by message id. */
  files(channel: number): Promise<CatalogFile[]>;
  file(channel: number, msgId: number): Promise<CatalogFile | undefined>;
  /** Called after a channel's file list changed (indexing progress, new or deleted posts). */
  onChange(listener: (channel: number) => void): () => void;
}
