// The attributes Telegram gives a document of each kind a manifest posts (manifest.ts), and the
// flags of its messageMediaDocument. A plain file post (no kind) keeps today's: its file name,
// plus documentAttributeVideo for a video by extension.
import type { TlObject } from './tl';
import type { EmuDocument } from './world';

/** A duration that looks like the file's (128 kbit/s), in whole seconds: valid as int (144) and double (198+). */
function durationOf(doc: EmuDocument): number {
  return Math.max(1, Math.round(doc.size / 16000));
}

/** "Performer - Title.mp3" → both; anything else is a title alone. */
function audioTags(name: string): { title: string; performer?: string } {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const sep = stem.indexOf(' - ');
  return sep > 0 ? { performer: stem.slice(0, sep), title: stem.slice(sep + 3) } : { title: stem };
}

export function documentAttributes(doc: EmuDocument): TlObject[] {
  const fileName = doc.fileName === undefined ? doc.name : doc.fileName;
  const named: TlObject[] = fileName === null ? [] : [{ _: 'documentAttributeFilename', file_name: fileName }];
  switch (doc.kind) {
    case undefined:
      return doc.isVideo ? [{ _: 'documentAttributeVideo', supports_streaming: true, duration: 0, w: 0, h: 0 }, ...named] : named;
    case 'document':
      return named;
    case 'video':
      return [{ _: 'documentAttributeVideo', supports_streaming: true, duration: durationOf(doc), w: 1280, h: 720 }, ...named];
    case 'round':
      return [{ _: 'documentAttributeVideo', round_message: true, supports_streaming: true, duration: durationOf(doc), w: 384, h: 384 }, ...named];
    case 'audio':
      return [{ _: 'documentAttributeAudio', duration: durationOf(doc), ...audioTags(fileName ?? doc.name) }, ...named];
    case 'voice':
      return [{ _: 'documentAttributeAudio', voice: true, duration: durationOf(doc), waveform: Buffer.alloc(63, 0x5a) }, ...named];
  }
}

/** messageMediaDocument's kind flags (layer 198+; older layers have none). */
export function mediaFlags(doc: EmuDocument): { video?: true; round?: true; voice?: true } {
  if (doc.kind === 'round') return { round: true };
  if (doc.kind === 'voice') return { voice: true };
  if (doc.kind === 'video' || (doc.kind === undefined && doc.isVideo)) return { video: true };
  return {};
}
