// New connections (TCP and TLS handshake) a load generator's client opens: a measured segment should
// reuse its keep-alive sockets, and one that opens connections measures handshakes too.
import type { HttpsClient } from '../../src/common/https-client.ts';

/** Calls opened() for every new connection of the client's agent from now on. */
export function countConnections(client: HttpsClient, opened: () => void): void {
  const create = client.agent.createConnection.bind(client.agent);
  client.agent.createConnection = ((...args: Parameters<typeof create>) => (opened(), create(...args))) as typeof create;
}
