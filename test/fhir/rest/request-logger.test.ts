// Request loggers made lazily (request-logger.ts) write what a pino child per request writes, byte for
// byte apart from the time, and make no child for the request line alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { lazyChildrenOf, logRequestLine, RequestLogger } from '../../../src/fhir/rest/request-logger.ts';

function capturing() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) as unknown as FastifyBaseLogger;
  return { logger, lines, withoutTime: () => lines.map((l) => l.replace(/"time":\d+,/, '')) };
}

const fields = { method: 'GET', route: '/fhir/:type/:id', type: 'Patient', status: 200, ms: 1.5, caller: 'Org "A"\n', trace: undefined };

test('the request line, other lines and grandchildren are what a pino child writes', () => {
  const lazy = capturing();
  const plain = capturing();
  lazyChildrenOf(lazy.logger);
  const a = lazy.logger.child({ reqId: 'abc123' }, {});
  const b = plain.logger.child({ reqId: 'abc123' }, {});
  assert.ok(a instanceof RequestLogger);
  logRequestLine(a, fields, 'request');
  logRequestLine(b, fields, 'request');
  a.warn({ code: '23505' }, 'database refused a value of the request');
  b.warn({ code: '23505' }, 'database refused a value of the request');
  // After the child was made (by the warning), the request line goes through it.
  logRequestLine(a, fields, 'request');
  logRequestLine(b, fields, 'request');
  a.child({ part: 1 }).info('nested');
  b.child({ part: 1 }).info('nested');
  a.debug('not written at info');
  b.debug('not written at info');
  assert.equal(lazy.lines.length, 4);
  assert.deepEqual(lazy.withoutTime(), plain.withoutTime());
  assert.match(lazy.lines[3]!, /"reqId":"abc123","part":1,"msg":"nested"/);
});

test('a request logger that only writes its request line makes no child', () => {
  const lazy = capturing();
  let made = 0;
  // Counting the children pino makes (pino's own child(), wrapped before lazyChildrenOf takes it).
  const originalChild = lazy.logger.child;
  (lazy.logger as { child: unknown }).child = function (this: unknown, ...args: unknown[]) {
    made++;
    return (originalChild as (...a: unknown[]) => unknown).apply(this, args);
  };
  lazyChildrenOf(lazy.logger);
  {
    for (let i = 0; i < 10; i++) logRequestLine(lazy.logger.child({ reqId: `r${i}` }, {}), fields, 'request');
    assert.equal(made, 0);
    lazy.logger.child({ reqId: 'x' }, {}).error('failed');
    assert.equal(made, 1);
  }
  assert.equal(lazy.lines.length, 11);
});
