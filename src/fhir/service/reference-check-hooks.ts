// The reference checks (references/reference-checks.ts) as a write hook: logical references are
// resolved before the write; the checks run at once, or, inside a transaction, after every entry ran
// (entries may point at entries that run later).
import type { ReferenceChecks } from '../references/reference-checks.ts';
import type { WriteHooks } from './write-hooks.ts';

export function referenceCheckHooks(references: ReferenceChecks): WriteHooks {
  return {
    beforeWrite: async (ctx, client, original, existing) => {
      const { resource, resolved } = await references.resolve(client, original);
      const check = () => references.check(client, resource, existing !== undefined, resolved);
      if (ctx.afterEntries) ctx.afterEntries.push(check);
      else await check();
      return resource;
    },
  };
}
