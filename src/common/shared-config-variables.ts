// Variables both servers read with the same meaning (each server is a container of its own in the
// reference, so they share names): the status port and the forward proxy.
import type { ConfigVariable } from './config-catalog.ts';

const v = (name: string, type: ConfigVariable['type'], description: string, more: Partial<ConfigVariable> = {}): ConfigVariable => ({
  name,
  type,
  description,
  reference: name.startsWith('DEV_DSF_'),
  ...more,
});

/** Status port variables: the same names for both servers (as the reference, one server a container). */
export const STATUS_VARIABLES: ConfigVariable[] = [
  v('DEV_DSF_SERVER_STATUS_HOST', 'string', 'Address the status port listens on (plain HTTP, no client certificate).', { default: '127.0.0.1' }),
  v('DEV_DSF_SERVER_STATUS_PORT', 'integer', 'Port of GET /status (200 when the database answers, else 503) and GET /metrics (Prometheus); no status port when unset. The reference requires it (its images use 10000).'),
];

export const PROXY_VARIABLES: ConfigVariable[] = [
  v('DEV_DSF_PROXY_URL', 'url', 'Forward proxy for outgoing HTTPS, e.g. http://proxy.example.org:8080.'),
  v('DEV_DSF_PROXY_USERNAME', 'string', 'User name at the forward proxy.'),
  v('DEV_DSF_PROXY_PASSWORD', 'string', 'Password at the forward proxy.', { secret: true }),
  v('DEV_DSF_PROXY_NOPROXY', 'list', 'Hosts (and host:port) reached without the proxy, comma separated.'),
];
