// The request log line written straight to the logger's stream, in the bytes pino itself writes for it:
// pino's generic path (format, the per-key serialiser and stringifier lookups, hasOwnProperty) was the
// largest single part of a read's hooks. Only for a pino logger whose options do not change a line
// (no mixin, log hooks, log formatter, redaction, message prefix, nested or other message key,
// metadata stream, serialiser of a field written here); any other logger keeps pino's own path.
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';

/** A request line's fields: strings and numbers; undefined ones are left out, as pino does. */
export type LineFields = Record<string, string | number | undefined>;
/** Writes the line and returns true, or returns false (nothing written) for a key it was not made for. */
export type LineWriter = (bindings: Record<string, unknown>, fields: LineFields, msg: string) => boolean;

// All of them exist at run time; pino's types leave out msgPrefixSym.
const sym = pino.symbols as typeof pino.symbols & { msgPrefixSym: symbol };

/** The keys whose values the writer may be given (bindings and fields); a serialiser of any of them keeps pino's path. */
export function directLineWriter(logger: FastifyBaseLogger, keys: readonly string[]): LineWriter | undefined {
  const l = logger as unknown as Record<symbol, unknown> & { levelVal?: number; levels?: { values: Record<string, number> } };
  const serializers = l[sym.serializersSym] as Record<string, unknown> | undefined;
  const formatters = l[sym.formattersSym] as { log?: unknown } | undefined;
  const hooks = l[sym.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const stringifiers = l[sym.stringifiersSym] as Record<string | symbol, unknown> | undefined;
  const stream = l[sym.streamSym] as { write(s: string): unknown; [k: symbol]: unknown } | undefined;
  const info = l.levels?.values.info;
  if (typeof l[sym.chindingsSym] !== 'string' || !serializers || !formatters || !hooks || !stringifiers || !stream || info === undefined) return undefined;
  if (l[sym.mixinSym] || hooks.logMethod || hooks.streamWrite || formatters.log || l[sym.msgPrefixSym] || l[sym.nestedKeySym] || l[sym.messageKeySym] !== 'msg') return undefined;
  if (Object.keys(stringifiers).length || stringifiers[sym.wildcardFirstSym as symbol] || stream[sym.needsMetadataGsym as symbol]) return undefined;
  if (keys.some((k) => serializers[k])) return undefined;
  const levelText = (l[sym.lsCacheSym] as Record<number, string>)[info]!;
  const time = l[sym.timeSym] as () => string;
  const end = l[sym.endSym] as string;
  /** `,"key":` of each key this writer writes. */
  const keyTexts = new Map(keys.map((k) => [k, ',' + jsonString(k) + ':']));
  return (bindings, fields, msg) => {
    if (l.levelVal! > info) return true;
    let line = levelText + time() + (l[sym.chindingsSym] as string);
    for (const key in bindings) {
      const text = property(keyTexts.get(key), bindings[key]);
      if (text === undefined) return false;
      line += text;
    }
    for (const key in fields) {
      const text = property(keyTexts.get(key), fields[key]);
      if (text === undefined) return false;
      line += text;
    }
    stream.write(line + ',"msg":' + jsonString(msg) + end);
    return true;
  };
}

/** The property's text (empty for an undefined value, as pino leaves it out); undefined when it cannot be written here. */
function property(keyText: string | undefined, value: unknown): string | undefined {
  if (value === undefined) return '';
  if (keyText === undefined) return undefined;
  if (typeof value === 'string') return keyText + jsonString(value);
  if (typeof value === 'number') return keyText + (Number.isFinite(value) ? String(value) : 'null');
  return undefined;
}

/** A JSON string as pino (on Node before 25) writes it: quotes and backslashes escaped, JSON.stringify for control characters or over 100 characters. */
function jsonString(s: string): string {
  if (s.length <= 100 && !SPECIAL.test(s)) return '"' + s + '"';
  if (s.length > 100 || CONTROL.test(s)) return JSON.stringify(s);
  return '"' + s.replace(QUOTE_OR_BACKSLASH, '\\$&') + '"';
}
// eslint-disable-next-line no-control-regex
const SPECIAL = /[\u0000-\u001f"\\]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;
const QUOTE_OR_BACKSLASH = /["\\]/g;
