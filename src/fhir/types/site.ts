// The facts about this site that type rules need: who the local organisation is, where this server is.
export interface Site {
  /** DEV_DSF_FHIR_SERVER_ORGANIZATION_IDENTIFIER_VALUE */
  localOrganizationIdentifier: string;
  /** DEV_DSF_FHIR_SERVER_BASE_URL, without a trailing slash. */
  baseUrl: string;
}

export function siteOf(config: { organizationIdentifier: string; baseUrl: string }): Site {
  return { localOrganizationIdentifier: config.organizationIdentifier, baseUrl: config.baseUrl };
}
