// Asks another DSF FHIR server whether a resource exists: HEAD <base>/<type>/<id>[/_history/<v>] over
// mutual TLS with this server's client certificate (DEV_DSF_FHIR_CLIENT_CERTIFICATE and _PRIVATE_KEY),
// as the reference's webservice client does. 200: exists, 404: does not; anything else, a refused
// connection or a timeout is an error the caller reports as "could not be resolved".
import https from 'node:https';
import type { LiteralParts } from './resource-reference.ts';

export interface RemoteClientSettings {
  /** PEM client certificate (chain) and its private key; without them no remote check can succeed. */
  certificate?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  /** PEM CAs trusted for the remote servers' certificates; empty: Node's default CAs. */
  trustedServerCas: string[];
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
export const DEFAULT_READ_TIMEOUT_MS = 10_000;

export interface RemoteExistence {
  exists(target: LiteralParts & { base: string }): Promise<boolean>;
  close(): void;
}

export class RemoteReferenceClient implements RemoteExistence {
  private readonly agent: https.Agent;

  constructor(private readonly settings: RemoteClientSettings) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      cert: settings.certificate,
      key: settings.privateKey,
      passphrase: settings.privateKeyPassword,
      ca: settings.trustedServerCas.length ? settings.trustedServerCas : undefined,
    });
  }

  exists(target: LiteralParts & { base: string }): Promise<boolean> {
    if (!this.settings.certificate || !this.settings.privateKey) {
      return Promise.reject(new Error('no client certificate configured (DEV_DSF_FHIR_CLIENT_CERTIFICATE, DEV_DSF_FHIR_CLIENT_CERTIFICATE_PRIVATE_KEY)'));
    }
    const path = [target.type, encodeURIComponent(target.id), ...(target.version ? ['_history', encodeURIComponent(target.version)] : [])].join('/');
    const url = `${target.base}/${path}`;
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: 'HEAD', headers: { accept: 'application/fhir+json' }, agent: this.agent }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve(true);
        else if (res.statusCode === 404) resolve(false);
        else reject(new Error(`HTTP ${res.statusCode} from ${url}`));
      });
      // Connect timeout until the socket is connected, then the read timeout while waiting for the answer.
      const connectTimer = setTimeout(() => req.destroy(new Error(`connecting to ${target.base} timed out`)), this.settings.connectTimeoutMs);
      req.on('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.setTimeout(this.settings.readTimeoutMs, () => req.destroy(new Error(`no answer from ${target.base} in time`)));
      req.on('close', () => clearTimeout(connectTimer));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
