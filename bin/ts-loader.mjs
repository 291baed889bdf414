// Our TypeScript loader, for `node --import <this file> main.ts`: registers ts-loader-hooks.mjs, which turns
// .ts modules into JavaScript with esbuild (types stripped, nothing else renamed or wrapped), and turns on
// source maps so stack traces name the .ts lines. Used instead of tsx, whose esbuild options include
// keepNames: each named closure or class made at run time then also paid a defineProperty (`__name`).
import { register } from 'node:module';

process.setSourceMapsEnabled(true);
register('./ts-loader-hooks.mjs', import.meta.url);
