// The three FsLike adapters of the conformance suite: the VFS in this process (startServer's
// wiring: pool + catalog + Vfs), the WebDAV server (`tgvfs serve` child; raw HTTP so that `..`
// is sent as written), and the FUSE mount (`tgvfs mount` child; fs.promises from this process is
// safe because the mount is served by the child).
import http from 'node:http';
import { open, readdir, stat, writeFile } from 'node:fs/promises';
import { loadConfig } from '../../src/config/config-file';
import { startServer } from '../../src/app/server';
import { isVfsError } from '../../src/vfs/errors';
import { makeMountDir, removeMountDir, startMount } from '../../support/fuse-mount';
import { startServe } from '../helpers/webdav-fixture';
import type { ConformanceEnv, FsErrorClass, FsLike } from './fs-like';

const ERRNO_CLASS: Record<string, FsErrorClass> = {
  ENOENT: 'not-found', EROFS: 'read-only', EINVAL: 'invalid', EISDIR: 'is-dir', ENOTDIR: 'not-dir', EIO: 'io',
};

/** An errno (Node fs) or VfsError code → class. */
export function errnoClass(err: unknown): FsErrorClass {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string') return ERRNO_CLASS[code] ?? `other:${code}`;
  return `other:${(err as Error)?.message ?? String(err)}`;
}

// ---- VFS -----------------------------------------------------------------------------------------

export async function vfsAdapter(env: ConformanceEnv): Promise<FsLike> {
  const config = await loadConfig(env.configPath);
  const server = await startServer(config, { listen: { host: '127.0.0.1', port: 0 } });
  try {
    await server.indexed();
    const failed = server.health().filter((h) => !h.indexed);
    if (failed.length) throw new Error(`indexing failed: ${JSON.stringify(failed)}`);
  } catch (err) {
    await server.close();
    throw err;
  }
  const vfs = server.vfs;
  return {
    readdir: async (p) => (await vfs.readdir(p)).map((e) => e.name),
    stat: async (p) => {
      const s = await vfs.stat(p);
      return { size: s.size, mtimeMs: s.mtimeMs, isDir: s.type === 'directory' };
    },
    read: async (p, offset, length) => {
      const h = await vfs.open(p);
      try {
        return await h.read(offset, length);
      } finally {
        h.close();
      }
    },
    // The Vfs API has no write operation at all: read-only by construction.
    tryWrite: async () => ('write' in vfs || 'writeFile' in vfs ? 'other:Vfs has a write method' : 'read-only'),
    errorClass: (err) => (isVfsError(err) ? errnoClass(err) : `other:${(err as Error)?.message ?? err}`),
    close: () => server.close(),
  };
}

// ---- WebDAV --------------------------------------------------------------------------------------

class HttpStatusError extends Error {
  constructor(readonly status: number, what: string) {
    super(`${what}: HTTP ${status}`);
  }
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(base: string, method: string, rawPath: string, headers: Record<string, string> = {}, body?: Buffer): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: rawPath, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`${method} ${rawPath}: no answer in 30 s`)));
    req.once('error', reject);
    req.end(body);
  });
}

/** Each segment %-encoded; `.` and `..` stay as written (encodeURIComponent keeps dots). */
const enc = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

interface DavProps {
  path: string;
  collection: boolean;
  size: number;
  mtimeMs: number;
}

function multistatus(xml: string): DavProps[] {
  const out: DavProps[] = [];
  const re = /<([A-Za-z][\w.-]*:)?response\b[^>]*>([\s\S]*?)<\/\1?response>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const inner = m[2]!;
    const pick = (n: string): string | null => new RegExp(`<(?:[A-Za-z][\\w.-]*:)?${n}\\b[^>/]*>([^<]*)<`).exec(inner)?.[1]?.trim() ?? null;
    const href = pick('href') ?? '';
    out.push({
      path: decodeURIComponent(href.replace(/^[a-z]+:\/\/[^/]+/i, '')),
      collection: /<(?:[A-Za-z][\w.-]*:)?collection\s*\/>/.test(inner),
      size: Number(pick('getcontentlength') ?? 0),
      mtimeMs: Date.parse(pick('getlastmodified') ?? ''),
    });
  }
  return out;
}

const trimSlash = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);

export async function webdavAdapter(env: ConformanceEnv): Promise<FsLike> {
  const serve = await startServe(env.configPath, 90_000);
  const propfind = async (p: string, depth: '0' | '1'): Promise<DavProps[]> => {
    const r = await request(serve.url, 'PROPFIND', enc(p), { Depth: depth });
    if (r.status !== 207) throw new HttpStatusError(r.status, `PROPFIND ${p}`);
    return multistatus(r.body.toString('utf8'));
  };
  return {
    readdir: async (p) => {
      const self = trimSlash(p);
      const entries = await propfind(p, '1');
      const me = entries.find((e) => trimSlash(e.path) === self);
      if (me && !me.collection) throw new HttpStatusError(0, 'not a collection');
      return entries.filter((e) => trimSlash(e.path) !== self).map((e) => trimSlash(e.path).split('/').pop()!);
    },
    stat: async (p) => {
      const [e] = await propfind(p, '0');
      if (!e) throw new Error(`PROPFIND ${p}: no response element`);
      return { size: e.collection ? 0 : e.size, mtimeMs: e.mtimeMs, isDir: e.collection };
    },
    read: async (p, offset, length) => {
      const r = await request(serve.url, 'GET', enc(p), { Range: `bytes=${offset}-${offset + length - 1}` });
      if (r.status === 416) return Buffer.alloc(0);
      if (r.status !== 206 && r.status !== 200) throw new HttpStatusError(r.status, `GET ${p}`);
      return r.status === 200 ? r.body.subarray(offset, offset + length) : r.body;
    },
    tryWrite: async (p) => {
      const r = await request(serve.url, 'PUT', enc(p), { 'Content-Type': 'application/octet-stream' }, Buffer.from('hello'));
      if (r.status === 403 || r.status === 405) return 'read-only';
      if (r.status >= 200 && r.status < 300) return 'written';
      return `other:HTTP ${r.status}`;
    },
    errorClass: (err) => {
      if (!(err instanceof HttpStatusError)) return `other:${(err as Error)?.message ?? err}`;
      if (err.status === 404) return 'not-found';
      if (err.status === 400 || err.status === 403) return 'invalid';
      if (err.status === 0) return 'not-dir';
      return `other:HTTP ${err.status}`;
    },
    close: async () => {
      await serve.stop();
    },
  };
}

// ---- FUSE ----------------------------------------------------------------------------------------

export async function fuseAdapter(env: ConformanceEnv): Promise<FsLike> {
  const dir = await makeMountDir('tgvfs-conf-mnt-');
  let mount;
  try {
    mount = await startMount(env.configPath, dir);
  } catch (err) {
    await removeMountDir(dir);
    throw err;
  }
  const m = mount;
  // String concatenation, not path.join: `..` reaches the kernel as written.
  const at = (p: string): string => (p === '/' ? dir : dir + p);
  return {
    readdir: (p) => readdir(at(p)),
    stat: async (p) => {
      const s = await stat(at(p));
      return { size: s.isDirectory() ? 0 : s.size, mtimeMs: s.mtimeMs, isDir: s.isDirectory() };
    },
    read: async (p, offset, length) => {
      const fh = await open(at(p), 'r');
      try {
        const buf = Buffer.alloc(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return buf.subarray(0, got);
      } finally {
        await fh.close();
      }
    },
    tryWrite: async (p) => {
      try {
        await writeFile(at(p), 'hello');
        return 'written';
      } catch (err) {
        return errnoClass(err);
      }
    },
    errorClass: errnoClass,
    close: async () => {
      const r = await m.stop();
      await removeMountDir(dir);
      if (r.code !== 0 || r.leftover) throw new Error(`tgvfs mount: exit ${r.code ?? r.signal}, leftover: ${r.leftover || 'none'}`);
    },
  };
}
