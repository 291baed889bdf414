// The data management site's encryption key for one data-sharing run: an EC key pair (P-384) made when
// the run starts at the DMS. The private key stays in that process instance; the public key is published
// on the DMS's own FHIR server (a DocumentReference readable by the consortium's DICs, identified by the
// run's business key). A DIC reads it from the DMS's Endpoint over mutual TLS, so the key is the DMS's.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { DocumentReference } from '@medplum/fhirtypes';
import type { ProcessPluginApi } from '../../../src/plugin-api/index.ts';
import { RECIPIENT_KEY_SID } from './constants.ts';

const PEM = 'application/x-pem-file';
/** How long a DIC waits for the key to appear (it is made when the DMS's process starts). */
const KEY_ATTEMPTS = 30;
const KEY_RETRY_MS = 1_000;

/** Publishes the public key; returns the private key as PKCS#8 PEM (to keep in the process). */
export async function publishRecipientKey(api: ProcessPluginApi, businessKey: string, consortium: string): Promise<string> {
  const { publicKey, privateKey } = await api.cryptoService.createKeyPairGeneratorSecp384r1AndInitialize().generateKeyPair();
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const document: DocumentReference = api.readAccessHelper.addRole(
    {
      resourceType: 'DocumentReference',
      identifier: [{ system: RECIPIENT_KEY_SID, value: businessKey }],
      status: 'current',
      description: 'Public key the DICs encrypt this data-sharing run for',
      content: [{ attachment: { contentType: PEM, data: Buffer.from(pem).toString('base64') } }],
    },
    consortium,
    'DIC',
  );
  await api.dsfClientProvider.getLocal().create(document);
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The DMS's public key of this run, read from the DMS's FHIR server. */
export async function fetchRecipientKey(api: ProcessPluginApi, dmsEndpointUrl: string, businessKey: string): Promise<KeyObject> {
  const client = api.endpointProvider.getLocalEndpointAddress() === dmsEndpointUrl ? api.dsfClientProvider.getLocal() : api.dsfClientProvider.getByEndpointUrl(dmsEndpointUrl);
  for (let attempt = 1; attempt <= KEY_ATTEMPTS; attempt++) {
    const found = await client.searchAll<DocumentReference>('DocumentReference', { identifier: `${RECIPIENT_KEY_SID}|${businessKey}` });
    const data = found[0]?.content?.[0]?.attachment?.data;
    if (data) return createPublicKey(Buffer.from(data, 'base64').toString());
    await new Promise((r) => setTimeout(r, KEY_RETRY_MS));
  }
  throw new Error(`no encryption key of run ${businessKey} at ${dmsEndpointUrl}`);
}
