// Uniqueness keys from identifiers: `<prefix><system>|<value>` for each identifier with a value.
import type { Identifier } from '@medplum/fhirtypes';

export const identifierKeys = (prefix: string, identifiers: readonly Identifier[] | undefined): string[] =>
  (identifiers ?? []).filter((i) => i && typeof i.value === 'string').map((i) => `${prefix}${i.system ?? ''}|${i.value}`);
