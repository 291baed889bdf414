// Holding in TurnBatches (turn-batches.ts): while a batch statement of a (group, shape) is in flight,
// the items that arrive for it gather into the next batch, sent when the one in flight answers or
// fails; never longer, a full batch at once, a lone item with nothing in flight at the end of its turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBatches, type BatchAnswer } from '../../src/db/turn-batches.ts';

const turn = () => new Promise<void>((r) => setImmediate(r));

/** A runner whose statements answer (each item upper-cased) or fail only when told. */
function controlled() {
  const sent: { items: string[]; settle: (fail?: boolean) => void }[] = [];
  const run = (items: string[]) =>
    new Promise<string[] | undefined>((resolve, reject) => {
      sent.push({ items, settle: (fail) => (fail ? reject(new Error('57014')) : resolve(items.map((i) => i.toUpperCase()))) });
    });
  return { sent, run };
}

const valueOf = (a: BatchAnswer<string[]> | undefined) => (a ? a.result[a.index] : undefined);

test('items arriving while a batch is in flight are held and go as one batch when it answers, each answered its own in order', async () => {
  const b = new TurnBatches<string, string[]>(64);
  const { sent, run } = controlled();
  const first = ['a', 'b'].map((k) => b.load(undefined, 's', k, k, run));
  await turn();
  assert.deepEqual(sent.map((s) => s.items), [['a', 'b']]);
  const held = ['c', 'd'].map((k) => b.load(undefined, 's', k, k, run));
  await turn();
  held.push(b.load(undefined, 's', 'e', 'e', run));
  await turn();
  await turn();
  assert.deepEqual(sent.map((s) => s.items), [['a', 'b']], 'nothing more sent while the first is in flight');
  sent[0]!.settle();
  assert.deepEqual((await Promise.all(first)).map(valueOf), ['A', 'B']);
  await turn();
  assert.deepEqual(sent.map((s) => s.items), [['a', 'b'], ['c', 'd', 'e']]);
  sent[1]!.settle();
  assert.deepEqual((await Promise.all(held)).map(valueOf), ['C', 'D', 'E']);
  assert.deepEqual(b.stats, { coalesced: 5, batchStatements: 2, failedBatches: 0, heldBatches: 1 });
});

test('the held batch goes when the one in flight fails; the failed one answers undefined to all its items', async () => {
  const b = new TurnBatches<string, string[]>(64);
  const { sent, run } = controlled();
  const first = ['a', 'b'].map((k) => b.load(undefined, 's', k, k, run));
  await turn();
  const held = ['c', 'd'].map((k) => b.load(undefined, 's', k, k, run));
  await turn();
  sent[0]!.settle(true);
  assert.deepEqual(await Promise.all(first), [undefined, undefined]);
  await turn();
  assert.deepEqual(sent.map((s) => s.items), [['a', 'b'], ['c', 'd']]);
  sent[1]!.settle();
  assert.deepEqual((await Promise.all(held)).map(valueOf), ['C', 'D']);
  assert.equal(b.stats.failedBatches, 1);
});

test('a lone item held behind a batch is answered undefined (its own statement) as soon as that batch answers', async () => {
  const b = new TurnBatches<string, string[]>(64);
  const { sent, run } = controlled();
  const first = ['a', 'b'].map((k) => b.load(undefined, 's', k, k, run));
  await turn();
  let answered = false;
  const lone = b.load(undefined, 's', 'c', 'c', run).then((a) => ((answered = true), a));
  await turn();
  await turn();
  assert.equal(answered, false);
  sent[0]!.settle();
  await Promise.all(first);
  assert.equal(await lone, undefined);
  assert.equal(sent.length, 1);
});

test('a held batch that fills up goes at once, beside the one in flight', async () => {
  const b = new TurnBatches<string, string[]>(3);
  const { sent, run } = controlled();
  const first = ['a', 'b'].map((k) => b.load(undefined, 's', k, k, run));
  await turn();
  const full = ['c', 'd', 'e'].map((k) => b.load(undefined, 's', k, k, run));
  assert.deepEqual(sent.map((s) => s.items), [['a', 'b'], ['c', 'd', 'e']]);
  const rest = ['f', 'g'].map((k) => b.load(undefined, 's', k, k, run));
  await turn();
  assert.equal(sent.length, 2, 'f and g wait for either to answer');
  sent[1]!.settle();
  assert.deepEqual((await Promise.all(full)).map(valueOf), ['C', 'D', 'E']);
  await turn();
  assert.deepEqual(sent[2]!.items, ['f', 'g']);
  sent[0]!.settle();
  sent[2]!.settle();
  assert.deepEqual((await Promise.all([...first, ...rest])).map(valueOf), ['A', 'B', 'F', 'G']);
});

test('a batch in flight holds nothing of other shapes or groups; a lone item with nothing in flight goes at the end of its turn', async () => {
  const b = new TurnBatches<string, string[]>(64);
  const { sent, run } = controlled();
  const group = {};
  const other = {};
  const first = ['a', 'b'].map((k) => b.load(group, 's', k, k, run));
  await turn();
  const others = [b.load(group, 't', 'c', 'c', run), b.load(group, 't', 'd', 'd', run), b.load(other, 's', 'e', 'e', run), b.load(other, 's', 'f', 'f', run)];
  const lone = b.load(group, 'u', 'g', 'g', run);
  await turn();
  assert.deepEqual(sent.map((s) => s.items), [['a', 'b'], ['c', 'd'], ['e', 'f']]);
  assert.equal(await lone, undefined);
  for (const s of sent) s.settle();
  assert.deepEqual((await Promise.all([...first, ...others])).map(valueOf), ['A', 'B', 'C', 'D', 'E', 'F']);
});

test('a held batch runs as the item that joined it last (the first one\'s request may have gone away meanwhile)', async () => {
  const b = new TurnBatches<string, string[]>(64);
  const { sent, run } = controlled();
  const first = ['a', 'b'].map((k) => b.load(undefined, 's', k, k, run));
  await turn();
  const ran: string[] = [];
  const runAs = (who: string) => (items: string[]) => (ran.push(who), run(items));
  const held = [b.load(undefined, 's', 'c', 'c', runAs('c')), b.load(undefined, 's', 'd', 'd', runAs('d'))];
  await turn();
  held.push(b.load(undefined, 's', 'e', 'e', runAs('e')));
  sent[0]!.settle();
  await Promise.all(first);
  await turn();
  assert.deepEqual(ran, ['e']);
  sent[1]!.settle();
  assert.deepEqual((await Promise.all(held)).map(valueOf), ['C', 'D', 'E']);
});

test('items arriving every turn while statements take several turns: all answered right, none waits more than one statement, fewer statements than turns', async () => {
  const b = new TurnBatches<string, string[]>(64);
  let statements = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  // Each statement answers three turns after it was sent.
  const run = async (items: string[]) => {
    statements++;
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    for (let i = 0; i < 3; i++) await turn();
    inFlight--;
    return items.map((i) => i.toUpperCase());
  };
  const loads: Promise<string | undefined>[] = [];
  const keys: string[] = [];
  for (let t = 0; t < 30; t++) {
    for (let j = 0; j < 2; j++) {
      const key = `k${t}-${j}`;
      keys.push(key);
      loads.push(b.load(undefined, 's', key, key, run).then(valueOf));
    }
    await turn();
  }
  const answers = await Promise.all(loads);
  answers.forEach((a, k) => assert.equal(a, keys[k]!.toUpperCase()));
  assert.equal(mostInFlight, 1);
  assert.ok(statements <= 12, `${statements} statements for 30 turns`);
});
