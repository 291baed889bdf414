// Validation of resources against FHIR packages for plugins (ValidationServiceProvider). Packages come
// from a FHIR package cache folder in the layout HL7's tools use (<cache>/<name>#<version>/package/),
// DSF_BPE_FHIR_PACKAGE_CACHE (default ~/.fhir/packages), with their dependencies; R4 itself is built in.
// The validator is the FHIR server's pure validation module (src/fhir/validation), nothing else of it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, CodeSystem, OperationOutcome, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import type { FhirPackageIdentifier, ValidationResult, ValidationService, ValidationServiceProvider } from '../../plugin-api/index.ts';
import { ResourceValidator, type ConformanceResolver } from '../../fhir/validation/validator.ts';
import { DEFAULT_PACKAGE_CACHE } from '../config.ts';

/** The R4 core package: its definitions are built in. */
const BUILT_IN = new Set(['hl7.fhir.r4.core']);

type Conformance = StructureDefinition | ValueSet | CodeSystem;

class PackageResolver implements ConformanceResolver {
  private readonly byUrl = new Map<string, Conformance>();

  add(resource: Conformance): void {
    if (!resource.url) return;
    if (!this.byUrl.has(resource.url)) this.byUrl.set(resource.url, resource);
    if (resource.version) this.byUrl.set(`${resource.url}|${resource.version}`, resource);
  }

  private find<R extends Conformance>(url: string, type: R['resourceType']): R | undefined {
    const r = this.byUrl.get(url) ?? this.byUrl.get(url.split('|')[0]!);
    return r?.resourceType === type ? (r as R) : undefined;
  }

  structureDefinition(url: string) {
    return this.find<StructureDefinition>(url, 'StructureDefinition');
  }
  valueSet(url: string) {
    return this.find<ValueSet>(url, 'ValueSet');
  }
  codeSystem(url: string) {
    return this.find<CodeSystem>(url, 'CodeSystem');
  }
}

function result(issues: ValidationResult['issues']): ValidationResult {
  return { successful: !issues.some((i) => i.severity === 'error' || i.severity === 'fatal'), issues };
}

class PackageValidationService implements ValidationService {
  private readonly validator: ResourceValidator;

  constructor(resolver: ConformanceResolver) {
    this.validator = new ResourceValidator(resolver);
  }

  validate(resource: Resource, profileUrl?: string): ValidationResult {
    if (!resource) throw new TypeError('resource missing');
    if (profileUrl === undefined) return result(this.validator.validate(resource));
    if (!profileUrl.trim()) throw new RangeError('profileUrl blank');
    // Against the base definition and the given profile only (not the profiles the resource declares).
    const meta = { ...(resource.meta ?? {}), profile: [profileUrl] };
    return result(this.validator.validate({ ...resource, meta } as Resource));
  }

  validateEntries(bundle: Bundle): Bundle {
    for (const entry of bundle.entry ?? []) {
      if (!entry.resource) continue;
      const r = this.validate(entry.resource);
      const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: r.issues.length ? [...r.issues] : [{ severity: 'information', code: 'informational', diagnostics: 'valid' }] };
      entry.response = { ...(entry.response ?? { status: r.successful ? '200' : '422' }), outcome };
    }
    return bundle;
  }
}

export class FhirPackageValidationServiceProvider implements ValidationServiceProvider {
  constructor(
    private readonly enabled: boolean,
    private readonly cacheDirectory: string = DEFAULT_PACKAGE_CACHE,
  ) {}

  getValidationService(...identifiers: FhirPackageIdentifier[]): ValidationService | undefined {
    return this.getValidationServiceFiltered(() => true, ...identifiers);
  }

  getValidationServiceFiltered(filter: (p: FhirPackageIdentifier) => boolean, ...identifiers: FhirPackageIdentifier[]): ValidationService | undefined {
    if (!this.enabled) return undefined;
    if (identifiers.length === 0) throw new RangeError('no FHIR package given');
    const resolver = new PackageResolver();
    const loaded = new Set<string>();
    const missing: string[] = [];
    const queue = [...identifiers];
    while (queue.length) {
      const p = queue.shift()!;
      const key = `${p.name}#${p.version}`;
      if (loaded.has(key) || BUILT_IN.has(p.name) || !filter(p)) continue;
      loaded.add(key);
      const folder = join(this.cacheDirectory, key, 'package');
      if (!existsSync(folder)) {
        missing.push(`${p.name}|${p.version}`);
        continue;
      }
      for (const file of readdirSync(folder).filter((f) => f.endsWith('.json'))) {
        let json: Record<string, unknown>;
        try {
          json = JSON.parse(readFileSync(join(folder, file), 'utf8')) as Record<string, unknown>;
        } catch {
          continue; // not JSON: not a resource of the package
        }
        if (file === 'package.json') {
          for (const [name, version] of Object.entries((json.dependencies as Record<string, string> | undefined) ?? {})) queue.push({ name, version: String(version) });
        } else if (json.resourceType === 'StructureDefinition' || json.resourceType === 'ValueSet' || json.resourceType === 'CodeSystem') resolver.add(json as unknown as Conformance);
      }
    }
    if (missing.length) throw new Error(`FHIR package(s) ${missing.join(', ')} not in the package cache ${this.cacheDirectory}`);
    return new PackageValidationService(resolver);
  }
}
