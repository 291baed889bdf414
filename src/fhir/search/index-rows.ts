// Turns a resource into its search index rows: one per value of each supported search parameter,
// computed with the parameter's FHIRPath expression and shaped by its type's module (param-types/).
import { searchParameters } from './parameters.ts';
import type { IndexRow } from './index-row.ts';
import { paramTypeModule } from './param-types/index.ts';

/** Told about a search parameter whose FHIRPath expression failed on a resource (its value is not searchable). */
export type IndexWarning = (problem: { resourceType: string; id?: string; param: string; error: Error }) => void;

export function computeIndexRows(resource: Record<string, unknown>, baseUrl: string, warn?: IndexWarning): IndexRow[] {
  const out: IndexRow[] = [];
  for (const p of searchParameters(resource.resourceType as string).values()) {
    let values: unknown[];
    try {
      values = p.evaluate(resource);
    } catch (e) {
      // A value FHIRPath cannot handle is not searchable; the resource is stored all the same.
      warn?.({ resourceType: resource.resourceType as string, id: resource.id as string | undefined, param: p.code, error: e as Error });
      continue;
    }
    const module = paramTypeModule(p.type);
    for (const v of values) module.indexRows(p, v, baseUrl, out);
  }
  return out;
}
