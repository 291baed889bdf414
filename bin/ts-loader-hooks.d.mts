// Types of ts-loader-hooks.mjs, for the test that calls its hook directly.
import type { LoadHook } from 'node:module';

export declare const load: LoadHook;
