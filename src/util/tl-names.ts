// TL method names as the schema spells them (`upload.getFile`), from a class name as GramJS and
// our emulator's TL objects spell it (`upload.GetFile`). Metrics labels, error messages and the
// emulator's /stats all use the schema's spelling.

/** `upload.GetFile` → `upload.getFile`; `GetFile` → `getFile`. */
export function tlMethodName(className: string): string {
  const dot = className.lastIndexOf('.');
  return className.slice(0, dot + 1) + className.charAt(dot + 1).toLowerCase() + className.slice(dot + 2);
}
