// Public surface of the catalog layer.
export { Catalog } from './catalog';
export type { CatalogOptions, IndexOptions, IndexProgress, IndexResult } from './catalog';
export { CATALOG_NAMESPACE } from './store';
export type { CatalogChannel, CatalogFile, CatalogReader, CatalogThumb } from './types';
