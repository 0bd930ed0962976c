// The conformance table (test/conformance/fs-like.ts) against the VFS in this process, the WebDAV
// server (`tgvfs serve` child) and the FUSE mount (`tgvfs mount` child): same operations, same
// expected results. Needs /dev/fuse and fusermount for the FUSE run (.ci/run installs fuse).
import { fuseAdapter, vfsAdapter, webdavAdapter } from './conformance/adapters';
import { conformanceSuite } from './conformance/fs-like';

conformanceSuite('VFS', vfsAdapter);
conformanceSuite('WebDAV', webdavAdapter);
conformanceSuite('FUSE', fuseAdapter);
