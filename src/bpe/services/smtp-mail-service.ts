// Mail over SMTP (the reference's SmtpMailService): plain SMTP or SMTPS (implicit TLS,
// DEV_DSF_BPE_MAIL_USESMTPS), optional AUTH PLAIN, one connection per message, optionally S/MIME
// signed (smime-signer.ts). Recipients default to the configured To/Cc addresses.
import net from 'node:net';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import type { MailService } from '../../plugin-api/index.ts';
import type { MailConfig } from '../config.ts';
import { signedMultipart, type SmimeSigner } from './smime-signer.ts';

const TIMEOUT_MS = 30_000;

/** Reads SMTP replies (multi-line: "250-...", last "250 ...") from a socket. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private waiting: ((reply: { code: number; text: string }) => void) | undefined;
  private failed: ((e: Error) => void) | undefined;

  constructor(socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        this.lines.push(line);
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
          const text = this.lines.join('\n');
          this.lines = [];
          const w = this.waiting;
          this.waiting = undefined;
          w?.({ code: Number(line.slice(0, 3)), text });
        }
      }
    });
    const fail = (e: Error) => this.failed?.(e);
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('SMTP connection closed')));
  }

  next(): Promise<{ code: number; text: string }> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }
}

function encodeHeader(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

export function buildMessage(from: string, to: string[], cc: string[], replyTo: string[], subject: string, body: string, signer?: SmimeSigner): string {
  const headers = [
    `From: ${from}`,
    `To: ${to.join(', ')}`,
    ...(cc.length ? [`Cc: ${cc.join(', ')}`] : []),
    ...(replyTo.length ? [`Reply-To: ${replyTo.join(', ')}`] : []),
    `Subject: ${encodeHeader(subject)}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomUUID()}@dsf-bpe>`,
    'MIME-Version: 1.0',
  ];
  const encoded = Buffer.from(body, 'utf8').toString('base64').replace(/.{1,76}/g, (l) => `${l}\r\n`);
  const entity = `Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${encoded}`;
  if (!signer) return `${headers.join('\r\n')}\r\n${entity}`;
  const signed = signedMultipart(signer, entity);
  return `${[...headers, ...signed.headers].join('\r\n')}\r\n\r\n${signed.body}`;
}

export class SmtpMailService implements MailService {
  constructor(
    private readonly config: MailConfig & { host: string; fromAddress: string },
    private readonly signer?: SmimeSigner,
  ) {}

  async send(subject: string, message: string, to?: string | readonly string[]): Promise<void> {
    const recipients = to === undefined ? this.config.toAddresses : ([] as string[]).concat(to);
    const cc = to === undefined ? this.config.toAddressesCc : [];
    if (recipients.length === 0) throw new Error('no mail recipients');
    const port = this.config.port || (this.config.useSmtps ? 465 : 25);
    const socket = this.config.useSmtps
      ? tls.connect({ host: this.config.host, port, servername: this.config.host, ca: this.config.trustedCas?.length ? this.config.trustedCas : undefined })
      : net.connect({ host: this.config.host, port });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('SMTP timeout')));
    const replies = new ReplyReader(socket);
    const expect = async (codes: number[], command?: string) => {
      const pending = replies.next();
      if (command !== undefined) socket.write(`${command}\r\n`);
      const reply = await pending;
      if (!codes.includes(reply.code)) throw new Error(`SMTP ${command?.split(' ')[0] ?? 'greeting'}: ${reply.text}`);
      return reply;
    };
    try {
      await expect([220]);
      await expect([250], 'EHLO dsf-bpe');
      if (this.config.username) {
        const token = Buffer.from(`\0${this.config.username}\0${this.config.password ?? ''}`, 'utf8').toString('base64');
        await expect([235], `AUTH PLAIN ${token}`);
      }
      await expect([250], `MAIL FROM:<${this.config.fromAddress}>`);
      for (const r of [...recipients, ...cc]) await expect([250, 251], `RCPT TO:<${r}>`);
      await expect([354], 'DATA');
      const data = buildMessage(this.config.fromAddress, recipients, cc, this.config.replyToAddresses, subject, message, this.signer)
        .split('\r\n')
        .map((l) => (l.startsWith('.') ? `.${l}` : l))
        .join('\r\n');
      await expect([250], `${data}\r\n.`);
      await expect([221], 'QUIT').catch(() => {});
    } finally {
      socket.destroy();
    }
  }
}
