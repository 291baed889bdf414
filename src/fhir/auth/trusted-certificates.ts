// Remembers which client certificates chained to a trusted CA, and for which period, so that a
// request with a known certificate costs a hash and a date comparison instead of parsing the
// certificate and verifying its signature again. Trust anchors do not change while the server runs;
// validity dates do, so each answer is kept only for the period in which both the certificate and
// its issuer are valid.
import { X509Certificate } from 'node:crypto';
import { splitPemBundle, verifyChain, type ChainRejection } from '../../common/x509.ts';

/** More distinct certificates than any site sees; the memo is emptied when it grows past this. */
const MAX_ENTRIES = 10_000;

interface ValidWindow {
  notBefore: number;
  notAfter: number;
}

export class TrustedCertificates {
  private readonly anchors: X509Certificate[];
  private readonly windows = new Map<string, ValidWindow>();

  constructor(private readonly trustedCaPems: readonly string[]) {
    this.anchors = trustedCaPems.flatMap((pem) => splitPemBundle(pem).map((one) => new X509Certificate(one)));
  }

  /** true when this thumbprint's certificate was found trusted and is valid now; false when check() must decide. */
  knownValid(thumbprint: string, t = Date.now()): boolean {
    return this.validWindow(thumbprint, t) !== undefined;
  }

  /** The period (ms, both ends included) in which this thumbprint's certificate was found trusted, when t is in it. */
  validWindow(thumbprint: string, t = Date.now()): Readonly<ValidWindow> | undefined {
    const known = this.windows.get(thumbprint);
    return known !== undefined && t >= known.notBefore && t <= known.notAfter ? known : undefined;
  }

  /** true when the certificate (DER) with this thumbprint is trusted and valid now; otherwise why not. */
  check(thumbprint: string, der: Buffer, now = new Date()): true | ChainRejection {
    const known = this.windows.get(thumbprint);
    const t = now.getTime();
    if (known && t >= known.notBefore && t <= known.notAfter) return true;
    const result = verifyChain(der, this.trustedCaPems, now);
    if (result !== true) return result;
    if (this.windows.size >= MAX_ENTRIES) this.windows.clear();
    this.windows.set(thumbprint, this.windowOf(der));
    return true;
  }

  /** The period in which the certificate and the anchor that issued it (or that it is) are both valid. */
  private windowOf(der: Buffer): ValidWindow {
    const leaf = new X509Certificate(der);
    let notBefore = Date.parse(leaf.validFrom);
    let notAfter = Date.parse(leaf.validTo);
    const anchor = this.anchors.find((a) => a.raw.equals(leaf.raw)) ?? this.anchors.find((a) => a.ca && leaf.checkIssued(a) && leaf.verify(a.publicKey));
    if (anchor && !anchor.raw.equals(leaf.raw)) {
      notBefore = Math.max(notBefore, Date.parse(anchor.validFrom));
      notAfter = Math.min(notAfter, Date.parse(anchor.validTo));
    }
    return { notBefore, notAfter };
  }
}
