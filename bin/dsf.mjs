#!/usr/bin/env node
// Runs the TypeScript CLI through our loader (ts-loader.mjs) so no build step is needed.
import './ts-loader.mjs';

await import('../src/cli/main.ts');
