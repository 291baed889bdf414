// The request line written directly (request-line.ts) is byte for byte what pino writes for it (apart
// from the time), for every kind of value a request line can hold; loggers whose options change a
// line, and keys the writer was not made for, go through pino.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino, type LoggerOptions } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { directLineWriter, type LineFields } from '../../../src/fhir/rest/request-line.ts';
import { REQUEST_LINE_KEYS } from '../../../src/fhir/rest/request-log.ts';
import { lazyChildrenOf, logRequestLine } from '../../../src/fhir/rest/request-logger.ts';

function capturing(options: LoggerOptions = { level: 'info' }) {
  const lines: string[] = [];
  const logger = pino(options, { write: (line: string) => void lines.push(line) }) as unknown as FastifyBaseLogger;
  return { logger, lines };
}

const withoutTime = (lines: string[]) => lines.map((l) => l.replace(/"time":\d+,/, ''));

const values: (string | number | undefined)[] = [
  'GET',
  '/fhir/:type/:id',
  '',
  'Org "A"\\B',
  'line\nbreak\ttab\u0001',
  'ümlaut ☃ \u2028 😀',
  'lone \ud800 surrogate',
  'quote " and lone \udc00',
  'x'.repeat(100),
  'y'.repeat(101) + '"',
  0,
  200,
  1.5,
  -0.25,
  1e21,
  NaN,
  Infinity,
  undefined,
];

test('every kind of value, as pino writes it', () => {
  const direct = capturing();
  const plain = capturing();
  const write = directLineWriter(direct.logger, REQUEST_LINE_KEYS)!;
  assert.ok(write, 'a plain pino logger gets the direct writer');
  for (const v of values) {
    const fields: LineFields = { method: 'GET', route: v as string, type: undefined, status: v, ms: 3.25, caller: v as string, trace: v as string };
    assert.equal(write({ reqId: 'abc123' }, fields, 'request'), true);
    plain.logger.info({ reqId: 'abc123', ...fields }, 'request');
    assert.equal(write({ reqId: 'abc123' }, { route: 'x' }, 'request abandoned by the client'), true);
    plain.logger.info({ reqId: 'abc123', route: 'x' }, 'request abandoned by the client');
  }
  assert.equal(direct.lines.length, values.length * 2);
  assert.deepEqual(withoutTime(direct.lines), withoutTime(plain.lines));
});

test('through lazy request loggers: the same lines as pino children, nothing below the level', () => {
  for (const level of ['info', 'warn', 'debug']) {
    const lazy = capturing({ level, base: { pid: 1, hostname: 'h\\"' } });
    const plain = capturing({ level, base: { pid: 1, hostname: 'h\\"' } });
    lazyChildrenOf(lazy.logger, REQUEST_LINE_KEYS);
    for (let i = 0; i < 3; i++) {
      const fields = { method: 'POST', route: '/fhir/:type', type: 'Task', status: 201, ms: i / 3, caller: `org-${i}` };
      logRequestLine(lazy.logger.child({ reqId: `r${i}` }, {}), fields, 'request');
      plain.logger.child({ reqId: `r${i}` }).info(fields, 'request');
    }
    assert.equal(lazy.lines.length, level === 'warn' ? 0 : 3);
    assert.deepEqual(withoutTime(lazy.lines), withoutTime(plain.lines));
  }
});

test('options that change a line keep pino: no direct writer', () => {
  const changing: LoggerOptions[] = [
    { mixin: () => ({ extra: 1 }) },
    { hooks: { logMethod(args, method) { method.apply(this, args); } } },
    { formatters: { log: (o) => ({ ...o, wrapped: true }) } },
    { redact: ['caller'] },
    { msgPrefix: '[fhir] ' },
    { nestedKey: 'payload' },
    { messageKey: 'message' },
    { serializers: { route: (r: string) => r.toUpperCase() } },
  ];
  for (const options of changing) assert.equal(directLineWriter(capturing(options).logger, REQUEST_LINE_KEYS), undefined, JSON.stringify(Object.keys(options)));
  // A serializer of another key (the server's `err`) does not matter.
  assert.ok(directLineWriter(capturing({ serializers: { err: (e: Error) => ({ message: e.message }) } }).logger, REQUEST_LINE_KEYS));
});

test('a key the writer was not made for, or a value that is not a string or number: nothing written, pino writes it', () => {
  const lazy = capturing();
  const plain = capturing();
  const write = directLineWriter(lazy.logger, ['reqId', 'route'])!;
  assert.equal(write({ reqId: 'a' }, { route: 'r', other: 'x' }, 'request'), false);
  assert.equal(write({ reqId: 'a' }, { route: { nested: true } as unknown as string }, 'request'), false);
  assert.equal(lazy.lines.length, 0);
  lazyChildrenOf(lazy.logger, ['reqId', 'route']);
  logRequestLine(lazy.logger.child({ reqId: 'a' }, {}), { route: 'r', other: 'x"' }, 'request');
  plain.logger.info({ reqId: 'a', route: 'r', other: 'x"' }, 'request');
  assert.deepEqual(withoutTime(lazy.lines), withoutTime(plain.lines));
});
