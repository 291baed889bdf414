// URLs, codes and variable names of the allow-list processes; they equal the reference plugin's
// (dsf-process-allow-list 1.0.0.1) so Tasks and Bundles travel between our sites and the reference's.
export const ALLOW_LIST_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/allow-list';
export const ALLOW_LIST_CODE = 'allow_list';

export const UPDATE_ALLOW_LIST_PROCESS_URL = 'http://dsf.dev/bpe/Process/updateAllowList';
export const DOWNLOAD_ALLOW_LIST_PROCESS_URL = 'http://dsf.dev/bpe/Process/downloadAllowList';
export const UPDATE_ALLOW_LIST_MESSAGE = 'updateAllowList';
export const DOWNLOAD_ALLOW_LIST_MESSAGE = 'downloadAllowListMessage';

/** Process variables shared by the download process's activities. */
export const AllowListVariables = {
  bundle: 'bundle',
  bundleUrl: 'bundleUrl',
} as const;

/** The only resource types an allow list may write. */
export const ALLOWED_TYPES: readonly string[] = ['Organization', 'Endpoint', 'OrganizationAffiliation'];
