// The BPE's MailService from its configuration: SMTP (S/MIME signed when a key store is configured)
// when a mail host and sender are set, else the log.
import type { MailService } from '../../plugin-api/index.ts';
import type { BpeConfig } from '../config.ts';
import type { BpeLogger } from './logging.ts';
import { LoggingMailService } from './mail-service.ts';
import { SmtpMailService } from './smtp-mail-service.ts';
import { createSmimeSigner, readPkcs12KeyStore } from './smime-signer.ts';

export function createMailService(config: BpeConfig, logger: BpeLogger): MailService {
  const mail = config.mail;
  if (!mail.host || !mail.fromAddress) return new LoggingMailService(logger.child('mail'));
  let signer;
  if (mail.smimeP12KeyStore) {
    const store = readPkcs12KeyStore(mail.smimeP12KeyStore, mail.smimeP12KeyStorePassword ?? '');
    signer = createSmimeSigner(store.keyPem, store.chainPem);
    logger.info(`mails are S/MIME signed as ${signer.subject}`);
  }
  return new SmtpMailService({ ...mail, host: mail.host, fromAddress: mail.fromAddress }, signer);
}
