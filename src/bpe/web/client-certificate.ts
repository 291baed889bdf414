// The caller's client certificate at the BPE's HTTPS server: from the TLS handshake when it chains to a
// trusted CA (the server asks for one, does not require it), or, behind a reverse proxy that terminates
// TLS (the reference's setup), from the proxy's header (DEV_DSF_SERVER_AUTH_CLIENT_CERTIFICATE_HEADER),
// believed only from DSF_SERVER_AUTH_TRUSTED_PROXY_ADDRESSES and checked against the trusted CAs here too.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { headerCertificateToPem, toDer, verifyChain } from '../../common/x509.ts';

export type CertificateOf = (req: IncomingMessage) => Buffer | undefined;

/** The TLS client certificate (DER) when it chains to a trusted CA. */
export function tlsCertificate(req: IncomingMessage): Buffer | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  const raw = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false)?.raw : undefined;
  return raw && raw.length > 0 && (socket as TLSSocket).authorized === true ? raw : undefined;
}

/** IPv4 addresses as IPv4, whether the socket reports them mapped into IPv6 or not. */
const normalize = (address: string) => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

export function clientCertificates(opts: { header: string; trustedProxyAddresses: readonly string[]; trustedCas: readonly string[] }): CertificateOf {
  const proxies = new Set(opts.trustedProxyAddresses.map(normalize));
  const header = opts.header.toLowerCase();
  return (req) => {
    if (proxies.has(normalize(req.socket.remoteAddress ?? '')) && req.headers[header] !== undefined) {
      const pem = headerCertificateToPem(req.headers[header]);
      return pem && verifyChain(pem, opts.trustedCas) === true ? toDer(pem) : undefined;
    }
    return tlsCertificate(req);
  };
}
