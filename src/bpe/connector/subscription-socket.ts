// One websocket to a FHIR server's /ws endpoint with the reference's protocol: `bind <id>`, answered
// by `bound <id>`, then one message per event (the resource as JSON or XML, or `ping <id>`).
import WebSocket from 'ws';
import type { ClientSettings } from '../client/dsf-client-provider.ts';

export interface SocketHandlers {
  onMessage(text: string): void;
  onClose(code: number, reason: string): void;
}

export class SubscriptionSocket {
  private constructor(private readonly socket: WebSocket) {}

  /** Opens the socket and binds the subscription; rejects if either fails. */
  static async bind(url: string, subscriptionId: string, tls: ClientSettings, handlers: SocketHandlers, timeoutMs: number): Promise<SubscriptionSocket> {
    const socket = new WebSocket(url, {
      cert: tls.clientCertificate,
      key: tls.clientCertificateKey,
      passphrase: tls.clientCertificateKeyPassword,
      ca: tls.trustedServerCas?.length ? tls.trustedServerCas : undefined,
      handshakeTimeout: timeoutMs,
    });
    let bound = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no 'bound ${subscriptionId}' within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => socket.send(`bind ${subscriptionId}`));
      socket.on('message', (data, isBinary) => {
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
