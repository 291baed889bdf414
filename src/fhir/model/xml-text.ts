// XML escaping and the canonical string form of XHTML narrative shared by the FHIR XML parser and writer.
import { SaxesParser, type SaxesTagNS } from 'saxes';

export const FHIR_NS = 'http://hl7.org/fhir';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const ATTR_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' };

/** Escapes character data (element content). Carriage returns are kept as references so they survive parsing. */
export function escapeText(s: string): string {
  return /[&<>\r]/.test(s) ? s.replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!) : s;
}

/** Escapes an attribute value; whitespace other than spaces is written as references so attribute normalisation keeps it. */
export function escapeAttr(s: string): string {
  return /[&<>"\n\r\t]/.test(s) ? s.replace(/[&<>"\n\r\t]/g, (c) => ATTR_ESCAPES[c]!) : s;
}

/**
 * Serialises XHTML parse events to the canonical string stored in JSON `div`: the root carries
 * xmlns="http://www.w3.org/1999/xhtml", all XHTML elements use the default namespace, comments and
 * processing instructions are dropped, text and attributes are escaped.
 */
export class XhtmlWriter {
  private out = '';
  private depth = 0;

  /** Adds an element start; returns an error message if the element or one of its attributes is not allowed. */
  open(tag: SaxesTagNS, treatNoNamespaceAsXhtml = false): string | undefined {
    const uri = tag.uri || (treatNoNamespaceAsXhtml ? XHTML_NS : '');
    if (uri !== XHTML_NS) return `element '${tag.name}' in the narrative is not in the XHTML namespace`;
    let s = '<' + tag.local;
    if (this.depth === 0) s += ` xmlns="${XHTML_NS}"`;
    for (const attr of Object.values(tag.attributes)) {
      if (attr.uri === XMLNS_NS || attr.name === 'xmlns') continue;
      if (attr.uri === XML_NS) s += ` xml:${attr.local}="${escapeAttr(attr.value)}"`;
      else if (!attr.uri) s += ` ${attr.local}="${escapeAttr(attr.value)}"`;
      else return `attribute '${attr.name}' on '${tag.name}' in the narrative is not allowed`;
    }
    this.out += tag.isSelfClosing ? s + '/>' : s + '>';
    this.depth++;
    return undefined;
  }

  close(tag: SaxesTagNS): boolean {
    if (!tag.isSelfClosing) this.out += '</' + tag.local + '>';
    return --this.depth === 0;
  }

  text(t: string): void {
    this.out += escapeText(t);
  }

  result(): string {
    return this.out;
  }
}

// HTML entities that hand-written JSON narrative tends to contain; XML knows only amp, lt, gt, quot, apos.
const HTML_ENTITIES: Record<string, string> = {
  nbsp: '\u00a0', copy: '\u00a9', reg: '\u00ae', trade: '\u2122', euro: '\u20ac', deg: '\u00b0', middot: '\u00b7',
  times: '\u00d7', ndash: '\u2013', mdash: '\u2014', hellip: '\u2026', laquo: '\u00ab', raquo: '\u00bb', bull: '\u2022',
};

/**
 * Brings an XHTML string from JSON into canonical form (see XhtmlWriter); elements without a namespace
 * are taken as XHTML and common HTML entities (&nbsp; ...) become characters. Returns undefined if the
 * string is not a single well-formed div element.
 */
export function canonicalXhtml(div: string): string | undefined {
  const parser = new SaxesParser({ xmlns: true, fragment: false });
  Object.assign(parser.ENTITIES, HTML_ENTITIES);
  const writer = new XhtmlWriter();
  let failed = false;
  let done = false;
  parser.on('doctype', () => { failed = true; });
  parser.on('opentag', (tag) => {
    if (failed) return;
    if (done || (writer.result() === '' && tag.local !== 'div')) failed = true;
    else if (writer.open(tag, true)) failed = true;
  });
  parser.on('closetag', (tag) => { if (!failed && writer.close(tag)) done = true; });
  parser.on('text', (t) => { if (!failed && !done && writer.result() !== '') writer.text(t); });
  parser.on('cdata', (t) => { if (!failed && !done) writer.text(t); });
  parser.on('error', () => { failed = true; });
  try {
    parser.write(div).close();
  } catch {
    return undefined;
  }
  return failed || !done ? undefined : writer.result();
}
