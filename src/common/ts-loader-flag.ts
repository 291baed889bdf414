// The `--import` value that runs a child node process's TypeScript through our loader (bin/ts-loader.mjs),
// as a file URL, so it works from any working directory and from a plugin's node_modules.
export const TS_LOADER = new URL('../../bin/ts-loader.mjs', import.meta.url).href;
