// The demo sizes its servers' database pools to the PostgreSQL server's max_connections, so that a
// network of many sites in one process (the 10-DIC feasibility benchmark: 21 FHIR servers, 11 BPEs)
// never asks for more connections than the server has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoPoolSizes } from '../../src/cli/demo-network.ts';

/** Connections all pools may hold at once, with each FHIR server's LISTEN connection. */
const peak = (p: { fhir: number; bpe: number }, fhirServers: number, bpes: number) => fhirServers * (p.fhir + 1) + bpes * p.bpe;

test('few sites: the servers\' default pools', () => {
  assert.deepEqual(demoPoolSizes(300, 3, 3 + 2, 3), { fhir: 20, bpe: 10 });
});

test('ten DICs with repositories and a research platform on the embedded PostgreSQL (300): smaller pools that fit', () => {
  const p = demoPoolSizes(300, 3, 21, 11);
  assert.ok(p.fhir < 20 && p.bpe < 10);
  assert.ok(p.fhir >= 2 * p.bpe - 1, 'a FHIR server keeps about twice a BPE\'s pool');
  assert.ok(peak(p, 21, 11) <= 300 - 3 - 10, `peak ${peak(p, 21, 11)}`);
});

test('every network that can fit at all fits: the peak stays below max_connections', () => {
  for (const max of [100, 200, 300, 500]) {
    for (let sites = 1; sites <= 20; sites++) {
      const fhirServers = 2 * sites + 1;
      const bpes = sites + 1;
      const p = demoPoolSizes(max, 3, fhirServers, bpes);
      assert.ok(p.fhir >= 2 && p.bpe >= 2 && p.fhir <= 20 && p.bpe <= 10);
      // At the least pools (2 each) a network may simply be too large for the server; otherwise it fits.
      if (p.fhir > 2 || p.bpe > 2) assert.ok(peak(p, fhirServers, bpes) <= max - 3, `max ${max}, ${sites} sites: peak ${peak(p, fhirServers, bpes)}`);
    }
  }
});
