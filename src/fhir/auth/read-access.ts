// What an identity may read, for every interaction that reads: its READ role limits the types, and
// each type's own rule (types/registry.ts) decides which resources. A data description the store
// turns into SQL (store/access-sql.ts), evaluated in the same query as the read or search itself.
import { ALL, allOf, NONE, typeIn, type AccessFilter } from '../store/access-condition.ts';
import type { Identity } from '../types/identity.ts';
import { readAccessOf, readAccessOfAnyType } from '../types/registry.ts';
import type { Site } from '../types/site.ts';

/**
 * The read filter of an identity. When the caller knows the possible types (a search of one type, a
 * read), only their rule is emitted: the statement stays small, and planning it cheap.
 */
export function readAccessFilter(identity: Identity, site: Site): AccessFilter {
  return (types) => {
    const read = identity.roles.get('READ');
    if (!read) return NONE;
    const role = read === 'all' ? ALL : typeIn([...read]);
    return allOf(role, types?.length === 1 ? readAccessOf(types[0]!, identity, site) : readAccessOfAnyType(identity, site));
  };
}
