// Types of ts-loader-cache.mjs, for the tests that call it directly.
export declare const MAX_CACHE_FILES: number;
export declare function cacheKey(salt: string, file: string, source: string): string;
export declare function cached(key: string): Promise<string | undefined>;
export declare function keep(key: string, code: string): Promise<void>;
/** `dir` ends with a path separator. */
export declare function prune(dir: string, max: number): Promise<number>;
