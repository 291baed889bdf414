// Data between sites travels as a Binary on the sender's own FHIR server that only the recipient may
// read: its security context is a DocumentReference with the read-access tags LOCAL and ORGANIZATION
// (the recipient), and the message Task carries the Binary's absolute URL. The recipient downloads it
// only from an active Endpoint of the organisation that sent the Task.
import { randomUUID } from 'node:crypto';
import type { DocumentReference, Task } from '@medplum/fhirtypes';
import type { FhirClient, ProcessPluginApi } from '../../../src/plugin-api/index.ts';
import { EXCHANGE_SID } from './constants.ts';

/** Stores the bytes readable only by `recipient` (organisation identifier); the Binary's absolute URL. */
export async function storeForRecipient(api: ProcessPluginApi, bytes: Uint8Array, mediaType: string, recipient: string, description: string): Promise<string> {
  const local = api.dsfClientProvider.getLocal();
  const context: DocumentReference = api.readAccessHelper.addOrganization(
    {
      resourceType: 'DocumentReference',
      identifier: [{ system: EXCHANGE_SID, value: randomUUID() }],
      status: 'current',
      description,
      content: [{ attachment: { contentType: mediaType, title: description } }],
    },
    recipient,
  );
  const created = await local.create(context);
  const binary = await local.createBinary(bytes, mediaType, `DocumentReference/${created.id}`);
  return `${local.baseUrl}/Binary/${binary.id}`;
}

/** The client of `sender`'s FHIR server if `url` is a Binary there; refuses any other server. */
async function senderServer(api: ProcessPluginApi, url: string, sender: string): Promise<{ client: FhirClient; id: string }> {
  const m = /^(https:\/\/.+)\/Binary\/([A-Za-z0-9\-.]{1,64})$/.exec(url);
  if (!m) throw new Error(`not an absolute Binary URL: ${url}`);
  const [, base, id] = m as unknown as [string, string, string];
  if ((await api.organizationProvider.getLocalOrganizationIdentifierValue()) === sender && api.endpointProvider.getLocalEndpointAddress() === base) return { client: api.dsfClientProvider.getLocal(), id };
  const organization = await api.organizationProvider.getOrganization(sender);
  const endpoints = (await api.endpointProvider.getRemoteEndpoints()).filter((e) => e.status === 'active' && e.managingOrganization?.reference?.endsWith(`Organization/${organization?.id}`));
  if (!organization || !endpoints.some((e) => e.address === base)) throw new Error(`${url} is not on a FHIR server of ${sender}`);
  return { client: api.dsfClientProvider.getByEndpointUrl(base), id };
}

/** Downloads the Binary the sender of `task` named in an input. */
export async function downloadFromSender(api: ProcessPluginApi, task: Task, url: string, mediaType: string): Promise<Buffer> {
  const sender = task.requester?.identifier?.value;
  if (!sender) throw new Error('Task without requester');
  const { client, id } = await senderServer(api, url, sender);
  return (await client.readBinary(id, mediaType)).readAll();
}
