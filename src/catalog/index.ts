// Public surface of the catalog layer.
export { Catalog } from './catalog';
export type { CatalogOptions } from './catalog';
export type { IndexOptions, IndexProgress, IndexResult } from './indexer';
export { CATALOG_NAMESPACE } from './store';
export type { CatalogChannel, CatalogFile, CatalogReader, CatalogThumb } from './types';
