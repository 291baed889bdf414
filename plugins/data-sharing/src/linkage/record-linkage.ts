// Linking encoded records across sites at the trusted third party: every pair of records from two
// different sites whose filters' Dice similarity reaches the threshold is a candidate; candidates are
// taken best first and joined into clusters of at most one record per site (union-find); every cluster
// gets one pseudonym. The TTP sees only filters and record handles, never names or birth dates.
import { randomUUID } from 'node:crypto';
import { dice, type BloomFilter } from './bloom-filter-encoding.ts';

export interface EncodedRecord {
  site: string;
  /** The site's handle of the record (not an identifier the TTP can read anything from). */
  handle: string;
  filter: BloomFilter;
}

export interface LinkageResult {
  /** site + '\u0000' + handle -> pseudonym (the same for every record of one person). */
  pseudonyms: Map<string, string>;
  /** Pairs above the threshold that were compared and accepted (a, b as site\u0000handle). */
  links: [string, string][];
  comparisons: number;
}

export const recordKey = (r: { site: string; handle: string }) => `${r.site}\u0000${r.handle}`;

export function linkRecords(records: readonly EncodedRecord[], threshold: number, pseudonym: () => string = randomUUID): LinkageResult {
  const candidates: { score: number; a: number; b: number }[] = [];
  let comparisons = 0;
  for (let a = 0; a < records.length; a++) {
    for (let b = a + 1; b < records.length; b++) {
      if (records[a]!.site === records[b]!.site) continue;
      comparisons++;
      const score = dice(records[a]!.filter, records[b]!.filter);
      if (score >= threshold) candidates.push({ score, a, b });
    }
  }
  candidates.sort((x, y) => y.score - x.score);

  // Union-find; each cluster remembers its sites so that no cluster holds two records of one site.
  const parent = records.map((_, i) => i);
  const sites = records.map((r) => new Set([r.site]));
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const links: [string, string][] = [];
  for (const c of candidates) {
    const ra = find(c.a);
    const rb = find(c.b);
    if (ra === rb) continue;
    if ([...sites[rb]!].some((s) => sites[ra]!.has(s))) continue;
    parent[rb] = ra;
    for (const s of sites[rb]!) sites[ra]!.add(s);
    links.push([recordKey(records[c.a]!), recordKey(records[c.b]!)]);
  }
  const byRoot = new Map<number, string>();
  const pseudonyms = new Map<string, string>();
  records.forEach((r, i) => {
    const root = find(i);
    if (!byRoot.has(root)) byRoot.set(root, pseudonym());
    pseudonyms.set(recordKey(r), byRoot.get(root)!);
  });
  return { pseudonyms, links, comparisons };
}

/** Pairs of records from different sites within each group. */
function crossSitePairs(groups: Iterable<string[]>): number {
  let pairs = 0;
  for (const sites of groups) {
    const perSite = new Map<string, number>();
    for (const s of sites) perSite.set(s, (perSite.get(s) ?? 0) + 1);
    pairs += (sites.length * (sites.length - 1)) / 2;
    for (const n of perSite.values()) pairs -= (n * (n - 1)) / 2;
  }
  return pairs;
}

function groupSites<T>(records: readonly T[], keyOf: (r: T) => string, siteOf: (r: T) => string): Iterable<string[]> {
  const groups = new Map<string, string[]>();
  for (const r of records) {
    const k = keyOf(r);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(siteOf(r));
  }
  return groups.values();
}

/** Precision, recall and F1 of the linked pairs against the true pairs (same person, different sites). */
export function linkageQuality(records: readonly { site: string; handle: string; person: string }[], pseudonyms: ReadonlyMap<string, string>): { precision: number; recall: number; f1: number; truePairs: number; predictedPairs: number } {
  const pseudonymOf = (r: { site: string; handle: string }) => pseudonyms.get(recordKey(r)) ?? `unlinked:${recordKey(r)}`;
  const truePairs = crossSitePairs(groupSites(records, (r) => r.person, (r) => r.site));
  const predictedPairs = crossSitePairs(groupSites(records, pseudonymOf, (r) => r.site));
  const correct = crossSitePairs(groupSites(records, (r) => `${r.person}\u0000${pseudonymOf(r)}`, (r) => r.site));
  const precision = predictedPairs ? correct / predictedPairs : 1;
  const recall = truePairs ? correct / truePairs : 1;
  return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, truePairs, predictedPairs };
}
