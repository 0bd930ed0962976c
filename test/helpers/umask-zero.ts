// Preloaded into a child with `node --require` (NODE_OPTIONS) by tests that check file modes:
// with umask 0, a file or folder created without an explicit mode would be world-readable.
process.umask(0);
