// Validation of resources against FHIR packages (the reference's ValidationServiceProvider and
// ValidationService). Absent when the operator disables it (DEV_DSF_BPE_PROCESS_FHIR_VALIDATION_ENABLED).
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

/** A FHIR package, e.g. { name: 'de.basisprofil.r4', version: '1.5.0' }. */
export interface FhirPackageIdentifier {
  readonly name: string;
  readonly version: string;
}

export interface ValidationResult {
  /** No issue of severity error or fatal. */
  readonly successful: boolean;
  readonly issues: readonly OperationOutcomeIssue[];
}

export interface ValidationService {
  /** Against the resource type's base definition and each profile in meta.profile. */
  validate(resource: Resource): ValidationResult;
  /** Against this profile (in addition to the base definition). */
  validate(resource: Resource, profileUrl: string): ValidationResult;
  /** Validates each entry's resource against its declared profiles; the bundle, each such entry with its issues as response.outcome. */
  validateEntries(bundle: Bundle): Bundle;
}

export interface ValidationServiceProvider {
  /**
   * A validator knowing the R4 base definitions and the conformance resources of these packages (and
   * their dependencies) from the FHIR package cache; undefined when the operator disabled validation.
   * A package missing from the cache is an error. The filter chooses which packages (dependencies
   * included) are loaded.
   */
  getValidationService(...identifiers: FhirPackageIdentifier[]): ValidationService | undefined;
  getValidationServiceFiltered(filter: (p: FhirPackageIdentifier) => boolean, ...identifiers: FhirPackageIdentifier[]): ValidationService | undefined;
}
