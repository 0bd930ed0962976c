// Waiting for a catalog to reach a state: checked now and on each of its change notifications.
import type { Catalog } from '../../src/catalog/catalog';
import type { CatalogFile } from '../../src/catalog/types';

/** Resolves once `check` holds for the catalog's files (checked now and on every change). */
export function filesWhen(catalog: Catalog, channel: number, check: (files: CatalogFile[]) => boolean, timeoutMs = 8000): Promise<CatalogFile[]> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, files?: CatalogFile[]): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      if (err) reject(err);
      else resolve(files!);
    };
    const timer = setTimeout(() => {
      void catalog.files(channel).then((files) => finish(new Error(`no matching change in ${timeoutMs} ms; files: ${files.map((f) => f.name).join(', ')}`)));
    }, timeoutMs);
    const test = (): void => {
      catalog.files(channel).then((files) => {
        if (check(files)) finish(null, files);
      }, (err: Error) => finish(err));
    };
    const off = catalog.onChange((c) => {
      if (c === channel) test();
    });
    test();
  });
}
