// A websocket client for the tests: TLS with a client certificate, every text message recorded, and
// waits bounded by a generous deadline (a deadline only turns a hang into a failure, it asserts nothing).
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import type { CertificateSet } from '../../../src/cli/certs.ts';

export const WAIT_MS = 15_000;

export interface Closed {
  code: number;
  reason: string;
}

export class EventClient {
  readonly messages: string[] = [];
  readonly pings: Buffer[] = [];
  readonly closed: Promise<Closed>;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.messages.push(data.toString());
      this.wake();
    });
    socket.on('ping', (data) => {
      this.pings.push(data);
      this.wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      this.wake();
    }));
    socket.on('error', () => {});
  }

  static async connect(wsUrl: string, certs: CertificateSet, who: string, opts: { autoPong?: boolean } = {}): Promise<EventClient> {
    const c = certs.organizations[who]?.client ?? certs.users[who];
    if (!c) throw new Error(`no certificate for ${who}`);
    const socket = new WebSocket(wsUrl, {
      cert: readFileSync(c.certPath, 'utf8'),
      key: readFileSync(c.keyPath, 'utf8'),
      ca: readFileSync(certs.ca.certPath, 'utf8'),
      autoPong: opts.autoPong ?? true,
    });
    const client = new EventClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until cond() holds (checked on every message, ping and close). */
  async until(cond: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; messages so far: ${this.messages.map((m) => m.slice(0, 80)).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The message with index i (waiting for it). */
  async message(i: number): Promise<string> {
    await this.until(() => this.messages.length > i, `message #${i}`);
    return this.messages[i]!;
  }

  async bind(id: string): Promise<void> {
    const before = this.messages.length;
    this.socket.send(`bind ${id}`);
    const reply = await this.message(before);
    if (reply !== `bound ${id}`) throw new Error(`expected 'bound ${id}', got '${reply.slice(0, 100)}'`);
  }

  /** Resources received as JSON after index `from`. */
  resources(from = 0): any[] {
    return this.messages.slice(from).filter((m) => m.startsWith('{')).map((m) => JSON.parse(m));
  }

  async waitClosed(ms = WAIT_MS): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('socket not closed in time')), ms)));
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<Closed> {
    this.socket.close();
    return this.waitClosed();
  }
}

export function wsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^https:/, 'wss:')}/ws`;
}
