#!/usr/bin/env -S node --max-semi-space-size=64
// Runs the TypeScript CLI through our loader (ts-loader.mjs) so no build step is needed.
import './ts-loader.mjs';

await import('../src/cli/main.ts');
