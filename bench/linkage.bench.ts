// Record linkage (`--only linkage`): generated records with known duplicates at three sites (30 % of the
// persons at a second site, 40 % of those copies with an error), encoded as keyed Bloom filters and
// linked at Dice >= 0.8. Prints encoding and linkage throughput (records per second; linkage compares
// every cross-site pair, so it grows with the square) and precision / recall, for 2,000 and 6,000
// records; the baseline is one Dice comparison (comparisons per second in the same run).
import { dice, encodeRecord } from '../plugins/data-sharing/src/linkage/bloom-filter-encoding.ts';
import { duplicateRecords } from '../src/research-data/linkage/duplicate-records.ts';
import { linkageQuality, linkRecords } from '../plugins/data-sharing/src/linkage/record-linkage.ts';

export interface LinkageBenchResult {
  persons: number;
  records: number;
  encodePerSecond: number;
  linkRecordsPerSecond: number;
  comparisonsPerSecond: number;
  precision: number;
  recall: number;
}

export function run(log: (s: string) => void): LinkageBenchResult[] {
  const out: LinkageBenchResult[] = [];
  for (const persons of [1_500, 4_600]) {
    const records = duplicateRecords({ sites: ['DIC_A', 'DIC_B', 'DIC_C'], persons, overlap: 0.3, errorRate: 0.4 });
    const t0 = performance.now();
    const encoded = records.map((r) => ({ site: r.site, handle: r.handle, filter: encodeRecord(r.fields, { key: 'bench key' }) }));
    const t1 = performance.now();
    const { pseudonyms, comparisons } = linkRecords(encoded, 0.8);
    const t2 = performance.now();
    // Baseline: the raw Dice comparisons the linkage is made of.
    let sink = 0;
    const n = Math.min(comparisons, 2_000_000);
    const t3 = performance.now();
    for (let i = 0; i < n; i++) sink += dice(encoded[i % encoded.length]!.filter, encoded[(i * 7 + 1) % encoded.length]!.filter);
    const t4 = performance.now();
    if (Number.isNaN(sink)) throw new Error('unreachable');
    const q = linkageQuality(records, pseudonyms);
    const r: LinkageBenchResult = {
      persons,
      records: records.length,
      encodePerSecond: Math.round(records.length / ((t1 - t0) / 1000)),
      linkRecordsPerSecond: Math.round(records.length / ((t2 - t1) / 1000)),
      comparisonsPerSecond: Math.round(n / ((t4 - t3) / 1000)),
      precision: Math.round(q.precision * 1000) / 1000,
      recall: Math.round(q.recall * 1000) / 1000,
    };
    const linkComparisonsPerSecond = comparisons / ((t2 - t1) / 1000);
    log(
      `  ${r.records} records (${persons} persons): encode ${r.encodePerSecond} records/s; link ${r.linkRecordsPerSecond} records/s (${comparisons} comparisons, ${(linkComparisonsPerSecond / r.comparisonsPerSecond).toFixed(2)}x the raw Dice rate of ${r.comparisonsPerSecond}/s); precision ${r.precision}, recall ${r.recall}`,
    );
    out.push(r);
  }
  return out;
}
