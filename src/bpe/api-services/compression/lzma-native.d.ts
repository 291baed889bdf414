// The part of lzma-native (liblzma bindings, no typings of its own) that the compression service uses.
declare module 'lzma-native' {
  import type { Transform } from 'node:stream';
  export const CHECK_CRC64: number;
  export function createCompressor(options?: { preset?: number; check?: number; synchronous?: boolean; threads?: number }): Transform;
  export function createDecompressor(options?: { synchronous?: boolean; memlimit?: number }): Transform;
  export function versionString(): string;
}
