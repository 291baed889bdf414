// docs/configuration.md as generated from the FHIR server's and the BPE's tables of variables.
import { renderConfigurationDoc } from '../common/config-catalog.ts';
import { FHIR_NOT_READ, FHIR_VARIABLES } from '../fhir/config-variables.ts';
import { BPE_NOT_READ, BPE_VARIABLES } from '../bpe/config-variables.ts';

export function configurationDoc(): string {
  return renderConfigurationDoc([FHIR_VARIABLES, BPE_VARIABLES], [...FHIR_NOT_READ, ...BPE_NOT_READ]);
}
