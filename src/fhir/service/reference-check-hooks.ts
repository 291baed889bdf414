// The reference checks (references/reference-checks.ts) as a write hook: logical references are
// resolved before the write; the checks run at once, or, inside a transaction, after every entry ran
// (entries may point at entries that run later).
import type { ReferenceChecks } from '../references/reference-checks.ts';
import type { WriteHooks } from './write-hooks.ts';

export function referenceCheckHooks(references: ReferenceChecks): WriteHooks {
  return {
    beforeWrite: async (ctx, client, original, existing) => {
      const { resource, resolved, references: found } = await references.resolve(client, original);
      // Checked at once, the references resolve() found are the resource's as they are: no second walk.
      // Deferred (a transaction's later entries), they are looked for again when checked.
      if (ctx.afterEntries) ctx.afterEntries.push(() => references.check(client, resource, existing !== undefined, resolved));
      else await references.check(client, resource, existing !== undefined, resolved, found);
      return resource;
    },
  };
}
