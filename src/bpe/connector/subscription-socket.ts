// One websocket to a FHIR server's /ws endpoint with the reference's protocol: `bind <id>`, answered
// by `bound <id>`, then one message per event (the resource as JSON or XML, or `ping <id>`).
// Once bound, a websocket ping goes out every keepAliveMs: a connection that answered neither it nor
// anything else by the next one is dropped (a firewall or NAT that forgot the connection sends no close,
// and events would be lost without anyone noticing); the pings also keep such idle connections alive.
import WebSocket from 'ws';
import type { ClientSettings } from '../client/dsf-client-provider.ts';

/** Between pings of a bound websocket; a dead connection is noticed within two of them. */
export const DEFAULT_KEEP_ALIVE_MS = 30_000;

export interface SocketHandlers {
  onMessage(text: string): void;
  onClose(code: number, reason: string): void;
}

export class SubscriptionSocket {
  private constructor(private readonly socket: WebSocket) {}

  /** Opens the socket and binds the subscription; rejects if either fails. */
  static async bind(url: string, subscriptionId: string, tls: ClientSettings, handlers: SocketHandlers, timeoutMs: number, keepAliveMs = DEFAULT_KEEP_ALIVE_MS): Promise<SubscriptionSocket> {
    const socket = new WebSocket(url, {
      cert: tls.clientCertificate,
      key: tls.clientCertificateKey,
      passphrase: tls.clientCertificateKeyPassword,
      ca: tls.trustedServerCas?.length ? tls.trustedServerCas : undefined,
      handshakeTimeout: timeoutMs,
    });
    let bound = false;
    let heard = true;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no 'bound ${subscriptionId}' within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => socket.send(`bind ${subscriptionId}`));
      socket.on('message', (data, isBinary) => {
        heard = true;
        if (isBinary) return;
        const text = data.toString();
        if (!bound) {
          clearTimeout(timer);
          if (text === `bound ${subscriptionId}`) {
            bound = true;
            resolve();
          } else {
            socket.terminate();
            reject(new Error(`expected 'bound ${subscriptionId}', got '${text.slice(0, 100)}'`));
          }
          return;
        }
        handlers.onMessage(text);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        if (!bound) reject(e);
      });
      socket.once('close', (code, reason) => {
        clearTimeout(timer);
        if (!bound) reject(new Error(`websocket closed before binding: ${code} ${reason.toString()}`));
        else handlers.onClose(code, reason.toString());
      });
    });
    socket.on('error', () => {}); // a close follows every error
    socket.on('pong', () => (heard = true));
    const keepAlive = setInterval(() => {
      if (!heard) {
        socket.terminate(); // emits close: the connector reconnects and catches up
        return;
      }
      heard = false;
      socket.ping();
    }, keepAliveMs);
    keepAlive.unref();
    socket.once('close', () => clearInterval(keepAlive));
    return new SubscriptionSocket(socket);
  }

  close(): void {
    this.socket.close(1000, 'BPE stopping');
  }

  /** Drops the connection at once (tests simulate a network failure with it). */
  terminate(): void {
    this.socket.terminate();
  }
}
