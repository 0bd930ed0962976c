// GET/HEAD on a folder. A browser (an Accept that names text/html) gets a light HTML page: folders
// first then files, sorted by name; a parent link; human sizes with the exact bytes in a title;
// message dates; a lazy thumbnail (`/thumb/<channel id>/<msg id>`) for files that have one; every
// name a link to its plain URL, which GET serves inline with its own Content-Type and ranges, so a
// video opens in the browser's own player and seeks. Inline CSS only: no script, nothing external,
// and a Content-Security-Policy that forbids both (names are other people's text).
// Any other client (WebDAV clients, curl's `*/*`) keeps the bare index this server always sent.
//
// Every href is relative (a folder URL with or without its trailing `/`, and a server mounted under
// a prefix by createHandler, all resolve the same), every name is %-encoded in hrefs and
// HTML-escaped in text. The listing comes from the catalog only (no upstream call).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { THUMBNAILS_DIR } from '../vfs/names';
import type { Vfs, VfsDirEntry } from '../vfs/vfs';

/** Where a listing is shown: the folder's names, and whether its URL ended with `/`. */
export interface ListingLocation {
  segments: readonly string[];
  trailingSlash: boolean;
}

export interface HtmlListingOptions {
  /** Message ids (of this folder's channel) whose file has a thumbnail. @default none */
  thumbnails?: ReadonlySet<number>;
}

/** True when an Accept header names HTML (`text/html` or XHTML, q > 0); the any-type wildcard alone does not. */
export function acceptsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    if (type !== 'text/html' && type !== 'application/xhtml+xml') return false;
    const q = params.find((p) => /^q\s*=/.test(p));
    return q === undefined || Number(q.split('=')[1]) > 0;
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `999 B`, `1.5 KiB`, `12 MiB`, `1.0 GiB`: at most 3 significant digits, binary units. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let unit = 0;
  let v = bytes;
  for (;;) {
    v /= 1024;
    unit++;
    // Rounded as it will be shown: 1023.7 KiB would show as "1024 KiB", so go one unit up.
    const shown = v < 10 ? Math.round(v * 10) / 10 : Math.round(v);
    if (shown < 1024 || unit === UNITS.length - 1) return `${v < 10 ? shown.toFixed(1) : shown} ${UNITS[unit]}`;
  }
}

/** `2024-05-01 13:45 UTC`: the same on every machine, whatever its locale or zone. */
export function listingDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

// Natural order ("ep2" before "ep10"), case-insensitive; code-point order breaks ties so that the
// order is total and the same everywhere.
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Folders first, then files, each by name. */
export function sortEntries(entries: readonly VfsDirEntry[]): VfsDirEntry[] {
  return [...entries].sort((a, b) => {
    const dirs = Number(b.stat.type === 'directory') - Number(a.stat.type === 'directory');
    if (dirs !== 0) return dirs;
    return collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
}

const STYLE = [
  'body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}',
  'h1{font-size:1.2em;font-weight:600;word-break:break-all}',
  'table{border-collapse:collapse;width:100%}',
  'th,td{padding:.3em .6em;text-align:left;vertical-align:middle}',
  'th{border-bottom:1px solid #ccc;font-weight:600}',
  'tbody tr:nth-child(even){background:#f6f6f6}',
  'td.n{word-break:break-all}',
  'td.s,th.s{text-align:right;white-space:nowrap}',
  'td.d{white-space:nowrap;color:#555}',
  'td.t{width:64px;height:40px;padding:.15em .6em}',
  'td.t img{display:block;max-width:64px;max-height:48px}',
  'a{color:#0645ad;text-decoration:none}a:hover{text-decoration:underline}',
  'footer{margin-top:1em;color:#555}',
].join('');

/** The HTML page for a folder's entries. */
export function renderHtmlListing(location: ListingLocation, entries: readonly VfsDirEntry[], options: HtmlListingOptions = {}): string {
  const { segments, trailingSlash } = location;
  const thumbnails = options.thumbnails ?? new Set<number>();
  // Links are relative to the document's folder: the listed folder when the URL ends with `/`,
  // else its parent (then every link starts with the folder's own last segment).
  const last = segments[segments.length - 1];
  const prefix = trailingSlash || last === undefined ? '' : `${encodeURIComponent(last)}/`;
  const docDepth = trailingSlash ? segments.length : Math.max(segments.length - 1, 0);
  const toRoot = '../'.repeat(docDepth);
  const title = `/${segments.map((s) => `${s}/`).join('')}`;

  const rows: string[] = [];
  if (segments.length > 0) {
    rows.push(`<tr class="up"><td class="t"></td><td class="n"><a href="${trailingSlash ? '../' : './'}">../</a></td><td class="s"></td><td class="d"></td></tr>`);
  }
  let files = 0;
  let folders = 0;
  let bytes = 0;
  for (const { name, stat } of sortEntries(entries)) {
    const dir = stat.type === 'directory';
    const href = escapeHtml(`${prefix}${encodeURIComponent(name)}${dir ? '/' : ''}`);
    const shown = escapeHtml(dir ? `${name}/` : name);
    const hasThumb = !dir && stat.channel !== undefined && stat.msgId !== undefined &&
      (stat.kind === 'thumbnail' || thumbnails.has(stat.msgId));
    const thumb = hasThumb
      ? `<a href="${href}" tabindex="-1"><img loading="lazy" alt="" src="${escapeHtml(`${toRoot}thumb/${stat.channel}/${stat.msgId}`)}"></a>`
      : '';
    const kind = dir ? 'dir' : `file ${escapeHtml(stat.mimeType.split('/')[0] ?? '')}`;
    const type = dir ? '' : ` type="${escapeHtml(stat.mimeType)}"`;
    const size = dir ? '<td class="s">-</td>' : `<td class="s" title="${stat.size} byte${stat.size === 1 ? '' : 's'}">${humanSize(stat.size)}</td>`;
    const date = `<td class="d"><time datetime="${new Date(stat.mtimeMs).toISOString()}">${listingDate(stat.mtimeMs)}</time></td>`;
    rows.push(`<tr class="${kind}"><td class="t">${thumb}</td><td class="n"><a href="${href}"${type}>${shown}</a></td>${size}${date}</tr>`);
    if (dir) folders++;
    else {
      files++;
      bytes += stat.size;
    }
  }
  const summary = `${folders} folder${folders === 1 ? '' : 's'}, ${files} file${files === 1 ? '' : 's'}` +
    (files > 0 ? `, ${humanSize(bytes)}` : '');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(title)} - tgvfs</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    '<table><thead><tr><th></th><th>Name</th><th class="s">Size</th><th>Date</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    `<footer>${summary}</footer>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** The bare index every client that does not ask for HTML has always had (kept as it was). */
export function renderPlainIndex(urlPath: string, entries: readonly VfsDirEntry[]): string {
  const base = urlPath.endsWith('/') ? urlPath : `${urlPath}/`;
  const rows = entries.map((e) => {
    const href = encodeURIComponent(e.name) + (e.stat.type === 'directory' ? '/' : '');
    const size = e.stat.type === 'directory' ? '-' : String(e.stat.size);
    return `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(e.name)}${e.stat.type === 'directory' ? '/' : ''}</a></td><td>${size}</td><td>${new Date(e.stat.mtimeMs).toISOString()}</td></tr>`;
  });
  return `<!doctype html>\n<meta charset="utf-8"><title>${escapeHtml(base)}</title>\n<h1>${escapeHtml(base)}</h1>\n<table>\n${rows.join('\n')}\n</table>\n`;
}

/** Same-origin images and media only, inline style only, no script, no framing. */
const LISTING_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Message ids of a channel folder's files that have a thumbnail (from its `.thumbnails/` folder). */
async function thumbnailIds(vfs: Vfs, segments: readonly string[], entries: readonly VfsDirEntry[]): Promise<Set<number>> {
  const ids = new Set<number>();
  const folder = entries.find((e) => e.name === THUMBNAILS_DIR && e.stat.kind === 'thumbnails');
  if (!folder) return ids;
  try {
    for (const t of await vfs.readdir([...segments, THUMBNAILS_DIR])) if (t.stat.msgId !== undefined) ids.add(t.stat.msgId);
  } catch {
    // The channel changed between the two listings: no thumbnails this time rather than an error.
  }
  return ids;
}

/**
 * Answers GET/HEAD on the folder at `segments`; `rawPath` is the request's path as sent (its
 * trailing `/` decides how relative links resolve). Rejects with the VFS's errors.
 */
export async function sendFolder(req: IncomingMessage, res: ServerResponse, vfs: Vfs, segments: readonly string[], rawPath: string): Promise<void> {
  const entries = await vfs.readdir(segments);
  let html: string;
  const headers: OutgoingHttpHeaders = { 'Content-Type': 'text/html; charset=utf-8', 'Vary': 'Accept' };
  const accept = req.headers.accept;
  if (acceptsHtml(accept)) {
    // The Spotlight marker means nothing to a person.
    const shown = entries.filter((e) => e.stat.kind !== 'marker');
    const location = { segments, trailingSlash: rawPath.endsWith('/') };
    html = renderHtmlListing(location, shown, { thumbnails: await thumbnailIds(vfs, segments, entries) });
    headers['Content-Security-Policy'] = LISTING_CSP;
    headers['X-Content-Type-Options'] = 'nosniff';
    headers['Cache-Control'] = 'no-cache';
  } else {
    html = renderPlainIndex(`/${segments.join('/')}`, entries);
  }
  const body = Buffer.from(html);
  headers['Content-Length'] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
