// How the catalog lies in keyv (namespace `tgvfs-catalog`), so that a restart lists everything
// without asking Telegram and several instances can share one store:
//   channel:<channel>        → ChannelRecord: the channel's pts, how far its ids were walked, and
//                              a revision stamp each save changes (instances sharing the store
//                              poll this one small key to learn that another one saved)
//   page:<channel>:<n>       → CatalogFile[] of message ids n*1000 … n*1000+999 (absent: none)
// Pages keep each write small (a new post rewrites one page, not a 10,000-file list) while a
// listing stays a handful of reads. Values read back are checked: a malformed one is dropped.
import type { Keyv } from 'keyv';
import type { CatalogFile, CatalogThumb } from './types';
import { isMediaKind } from '../util/media';
import { compactFile } from './compact-file';

export const CATALOG_NAMESPACE = 'tgvfs-catalog';
/** Message ids per page. */
export const PAGE_IDS = 1000;

export interface ChannelRecord {
  /** The channel's update state we are in step with; 0 before the first index. */
  pts: number;
  /** Every id up to this one has been read (or learnt from updates). */
  walked: number;
  /** Newest id to walk to (dialog.top_message when it was asked); `walked < target`: a walk was cut short. */
  target: number;
  /** Pages that hold at least one file. */
  pages: number[];
  /** Who saved this record last and when, e.g. `3f9a…:12`; absent in records of older versions. */
  rev?: string;
  /**
   * Which messages the walked ids were read as files by (CONTENT_VERSION); absent in records
   * of versions that made files of documents only (photos, kinds and captions were not kept).
   */
  content?: number;
}

/** What the catalog makes of a message: 2 = documents and photos, with kind, audio title and caption. */
export const CONTENT_VERSION = 2;

export const pageOf = (msgId: number): number => Math.floor(msgId / PAGE_IDS);

/** The same save: the same stamp, or (records without one) the same contents. */
export function sameRecord(a: ChannelRecord, b: ChannelRecord): boolean {
  if (a.rev !== undefined || b.rev !== undefined) return a.rev === b.rev;
  return a.pts === b.pts && a.walked === b.walked && a.target === b.target &&
    a.pages.length === b.pages.length && a.pages.every((n, i) => n === b.pages[i]);
}

/** `a` has seen at least as much of the channel as `b` (pts first, then how far ids were walked). */
export function notBehind(a: ChannelRecord, b: ChannelRecord): boolean {
  return a.pts > b.pts || (a.pts === b.pts && a.walked >= b.walked);
}

export class CatalogStore {
  constructor(private readonly keyv: Keyv) {}

  async loadChannel(channel: number): Promise<{ record: ChannelRecord; files: CatalogFile[] }> {
    const raw: unknown = await this.keyv.get(channelKey(channel));
    const record = isChannelRecord(raw) ? { ...raw, pages: [...raw.pages] } : { pts: 0, walked: 0, target: 0, pages: [] };
    const files: CatalogFile[] = [];
    const pages: unknown[] = record.pages.length ? await this.keyv.getMany(record.pages.map((n) => pageKey(channel, n))) : [];
    pages.forEach((page, i) => {
      if (!Array.isArray(page)) return;
      const n = record.pages[i]!;
      for (const f of page) if (isCatalogFile(f) && f.channel === channel && pageOf(f.msgId) === n) files.push(compactFile(f));
    });
    return { record, files };
  }

  /** The channel's record alone (one small read): undefined when absent or malformed. */
  async loadRecord(channel: number): Promise<ChannelRecord | undefined> {
    const raw: unknown = await this.keyv.get(channelKey(channel));
    return isChannelRecord(raw) ? { ...raw, pages: [...raw.pages] } : undefined;
  }

  /** Writes the given pages (an empty one is deleted), then the record that lists the pages. */
  async save(channel: number, record: ChannelRecord, pages: Map<number, CatalogFile[]>): Promise<void> {
    await Promise.all(
      [...pages].map(([n, files]) => (files.length ? this.keyv.set(pageKey(channel, n), files) : this.keyv.delete(pageKey(channel, n)))),
    );
    const value: ChannelRecord = { pts: record.pts, walked: record.walked, target: record.target, pages: [...record.pages].sort((a, b) => a - b) };
    if (record.rev !== undefined) value.rev = record.rev;
    if (record.content !== undefined) value.content = record.content;
    await this.keyv.set(channelKey(channel), value);
  }
}

function channelKey(channel: number): string {
  return `channel:${channel}`;
}

function pageKey(channel: number, n: number): string {
  return `page:${channel}:${n}`;
}

// ---- validation of values read back (a shared store may hold anything) ---------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isChannelRecord(v: unknown): v is ChannelRecord {
  return (
    isRecord(v) && isCount(v.pts) && isCount(v.walked) && isCount(v.target) && Array.isArray(v.pages) && v.pages.every(isCount) &&
    (v.rev === undefined || typeof v.rev === 'string') &&
    (v.content === undefined || isCount(v.content))
  );
}

function isThumb(v: unknown): v is CatalogThumb {
  return isRecord(v) && typeof v.type === 'string' && isCount(v.w) && isCount(v.h) && isCount(v.size);
}

export function isCatalogFile(v: unknown): v is CatalogFile {
  return (
    isRecord(v) &&
    typeof v.channel === 'number' && Number.isSafeInteger(v.channel) &&
    isCount(v.msgId) && v.msgId > 0 &&
    typeof v.docId === 'string' && /^-?\d{1,20}$/.test(v.docId) &&
    isCount(v.size) &&
    typeof v.mimeType === 'string' &&
    (v.name === null || typeof v.name === 'string') &&
    typeof v.date === 'number' && Number.isSafeInteger(v.date) &&
    Array.isArray(v.thumbs) && v.thumbs.every(isThumb) &&
    (v.media === undefined || isMediaKind(v.media)) &&
    (v.title === undefined || typeof v.title === 'string') &&
    (v.caption === undefined || typeof v.caption === 'string')
  );
}
