// What the real-client WebDAV and FUSE tests need besides support/programs (finding and running
// curl, rclone, davfs2, ffprobe, VLC): VLC run as an unprivileged user (it refuses to run as
// root), a file's SHA-256, and curl's response heads parsed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { requireProgram } from '../../support/programs';

/**
 * `program args` as the unprivileged user `nobody` when we are root (VLC refuses to run as root),
 * through util-linux's setpriv; as is otherwise.
 */
export function asUnprivileged(program: string, args: readonly string[]): { program: string; args: string[] } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { program, args: [...args] };
  const setpriv = requireProgram('setpriv');
  return { program: setpriv, args: ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', program, ...args] };
}

/** The SHA-256 of a file's content, hex (streamed). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .once('error', reject)
      .once('end', () => resolve(h.digest('hex')));
  });
}

/** Header fields of an HTTP/1.1 response head (`curl -D`): the last response's, names lower-cased. */
export function parseHeaderBlock(text: string): { status: number; headers: Map<string, string> } {
  // curl writes one block per response (e.g. after a 100 Continue): keep the last one.
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
  const last = blocks[blocks.length - 1]?.trim() ?? '';
  const [statusLine, ...lines] = last.split(/\r?\n/);
  const m = /^HTTP\/[\d.]+ (\d{3})/.exec(statusLine ?? '');
  if (!m) throw new Error(`no HTTP status line in:\n${text.slice(0, 500)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { status: Number(m[1]), headers };
}
