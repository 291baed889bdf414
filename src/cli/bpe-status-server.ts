// The demo's BPE status endpoint is the BPE's own HTTPS server now (src/bpe/web/bpe-web-server.ts); these
// names stay for the demo network's code.
export type { BpeStatus, BpeWebServer as BpeStatusServer } from '../bpe/web/bpe-web-server.ts';
