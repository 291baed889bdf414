// The FHIR server's request histogram (common/request-histogram.ts) stands in for prom-client's
// Histogram: the same observations give the same /metrics text, byte for byte, and the same JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { RequestHistogram } from '../../src/common/request-histogram.ts';

const NAME = 'dsf_fhir_http_request_duration_seconds';
const HELP = 'HTTP requests of the FHIR API by method, route pattern and status, with their duration';
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// Bucket bounds exactly, between them, above the last, zero; routes with characters the text escapes.
const observations: [string, string, number, number][] = [
  ['GET', '/fhir/:type/:id', 200, 0.0031],
  ['GET', '/fhir/:type', 200, 0.005],
  ['POST', '/fhir/:type', 201, 0.0123],
  ['GET', '/fhir/:type/:id', 200, 30],
  ['GET', '/fhir/:type/:id', 404, 31.5],
  ['GET', 'unknown', 404, 0],
  ['GET', '/fhir/:type/:id', 200, 0.25],
  ['DELETE', 'a "quoted"\\route\nwith a newline', 500, 1.75],
  ['POST', '/fhir/:type', 201, 0.1 + 0.2],
  ['GET', '/fhir/:type', 304, 2.5],
];

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const h = new Histogram({ name: NAME, help: HELP, labelNames: ['method', 'route', 'status'] as const, buckets: BUCKETS, registers: [theirs] });
  const r = new RequestHistogram(NAME, HELP, BUCKETS, [ours]);
  return { theirs, ours, h, r };
}

test('the same observations give the same /metrics text and JSON as prom-client', async () => {
  const { theirs, ours, h, r } = pair();
  assert.equal(await ours.metrics(), await theirs.metrics(), 'no observations yet');
  for (const [method, route, status, seconds] of observations) {
    h.observe({ method, route, status: String(status) }, seconds);
    r.observe(method, route, status, seconds);
  }
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  assert.match(text, /^dsf_fhir_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/fhir\/:type\/:id",status="200"\} 1$/m);
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  theirs.resetMetrics();
  ours.resetMetrics();
  h.observe({ method: 'GET', route: '/fhir/metadata', status: '200' }, 0.02);
  r.observe('GET', '/fhir/metadata', 200, 0.02);
  assert.equal(await ours.metrics(), await theirs.metrics(), 'after a reset');
});

test('a value that is not a finite number is refused, as prom-client does', () => {
  const { h, r } = pair();
  assert.throws(() => h.observe({ method: 'GET', route: '/', status: '200' }, Number.NaN), TypeError);
  assert.throws(() => r.observe('GET', '/', 200, Number.NaN), TypeError);
});
