// Mail without an SMTP server: every message goes to the log (the reference's LoggingMailService).
import type { Logger, MailService } from '../../plugin-api/index.ts';

export class LoggingMailService implements MailService {
  constructor(private readonly logger: Logger) {}

  async send(subject: string, message: string, to?: string | readonly string[]): Promise<void> {
    const recipients = to === undefined ? 'configured recipients' : ([] as string[]).concat(to).join(', ');
    this.logger.info(`Mail to ${recipients} (no SMTP server configured): ${subject}\n${message}`);
  }
}
