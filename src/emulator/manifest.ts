// A channel folder's `.messages.json`: the posts of a channel that looks like a real one (photos,
// nameless media, albums, captions, text, service messages, polls, web pages, gaps). Parsed and
// checked here; world-manifest.ts turns it into messages. A manifest that does not parse is
// reported whole (one line naming the folder and the first bad entry) and not applied.

export const MANIFEST_NAME = '.messages.json';

export const POST_KINDS = ['document', 'photo', 'video', 'audio', 'voice', 'round', 'text', 'service', 'poll', 'webpage'] as const;
export type PostKind = (typeof POST_KINDS)[number];

/** Kinds whose post is a document (messageMediaDocument). */
export type DocumentKind = 'document' | 'video' | 'audio' | 'voice' | 'round';

/** Kinds that need a `file`; the others must not have one. */
const FILE_KINDS = new Set<PostKind>(['document', 'photo', 'video', 'audio', 'voice', 'round']);
/** Kinds with a document, whose file-name attribute `name` sets. */
const NAMED_KINDS = new Set<PostKind>(['document', 'video', 'audio', 'voice', 'round']);

export interface ManifestPost {
  id: number;
  kind: PostKind;
  /** A file of the folder (file kinds only). */
  file?: string;
  /** The documentAttributeFilename value; null: none; absent: the kind's default (see README). */
  name?: string | null;
  caption?: string;
  /** The album's grouped_id. */
  grouped?: number;
  /** Unix seconds. */
  date?: number;
}

export type ManifestResult = { ok: true; posts: ManifestPost[] } | { ok: false; error: string };

const KEYS = new Set(['id', 'kind', 'file', 'name', 'caption', 'grouped', 'date']);
const MAX_ID = 0x7fffffff;

export function isDocumentKind(kind: PostKind): kind is DocumentKind {
  return NAMED_KINDS.has(kind);
}

/**
 * Parses a manifest. `files` are the folder's files (dot files excluded): a post's `file` must be
 * one of them. Posts come back sorted by id.
 */
export function parseManifest(text: string, files: ReadonlySet<string>): ManifestResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (!Array.isArray(data)) return { ok: false, error: 'not an array of posts' };
  const seen = new Set<number>();
  const posts: ManifestPost[] = [];
  for (let i = 0; i < data.length; i++) {
    const entry: unknown = data[i];
    const problem = checkEntry(entry, files);
    const id = typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
    const where = `entry ${i}${typeof id === 'number' ? ` (id ${id})` : ''}`;
    if (problem) return { ok: false, error: `${where}: ${problem}` };
    const post = entry as ManifestPost;
    if (seen.has(post.id)) return { ok: false, error: `${where}: id listed twice` };
    seen.add(post.id);
    posts.push(post);
  }
  posts.sort((a, b) => a.id - b.id);
  return { ok: true, posts };
}

/** What is wrong with one entry, or null. */
function checkEntry(entry: unknown, files: ReadonlySet<string>): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'not an object';
  const e = entry as Record<string, unknown>;
  for (const k of Object.keys(e)) if (!KEYS.has(k)) return `unknown field "${k}"`;
  if (!isInt(e.id, 1, MAX_ID)) return `id must be an integer from 1 to ${MAX_ID}`;
  if (typeof e.kind !== 'string' || !(POST_KINDS as readonly string[]).includes(e.kind)) return `kind must be one of ${POST_KINDS.join('|')}`;
  const kind = e.kind as PostKind;
  if (FILE_KINDS.has(kind)) {
    if (typeof e.file !== 'string') return `a ${kind} post needs "file"`;
    if (!files.has(e.file)) return `file "${e.file}" is not a file of the folder`;
  } else if (e.file !== undefined) return `a ${kind} post has no "file"`;
  if (e.name !== undefined && !NAMED_KINDS.has(kind)) return `a ${kind} post has no "name" (no document)`;
  if (e.name !== undefined && e.name !== null && (typeof e.name !== 'string' || e.name === '')) return '"name" must be a non-empty string or null';
  if (e.caption !== undefined && typeof e.caption !== 'string') return '"caption" must be a string';
  if ((kind === 'text' || kind === 'webpage') && !e.caption) return `a ${kind} post needs a "caption" (its text)`;
  if (e.grouped !== undefined && !isInt(e.grouped, 1, Number.MAX_SAFE_INTEGER)) return '"grouped" must be a positive integer';
  if (e.date !== undefined && !isInt(e.date, 0, MAX_ID)) return '"date" must be unix seconds';
  return null;
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
