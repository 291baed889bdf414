// Node options the DSF servers run with. bin/dsf.mjs's first line (`#!/usr/bin/env -S node ...`) carries
// them, as it cannot import this file; test/cli/server-node-options.test.ts checks that the two agree and
// that the options take effect. Whoever starts node themselves (`node bin/dsf.mjs`, a container's entry
// point) gives them in NODE_OPTIONS (docs/operations.md); V8 reads them only at start, so
// v8.setFlagsFromString from the running program does not change the heap.
//
// --max-semi-space-size=64: V8's young generation may grow to 64 MiB a half (Node 20's default is 16).
// Every request allocates a few kilobytes that die with it; a larger young generation is scavenged four
// times less often, for the same live objects a scavenge (docs/performance.md, "Fourteenth session").
// It grows only under load: an idle server's memory stays as before.
export const SERVER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=64'];
