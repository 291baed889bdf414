// FHIR R4 XML -> FHIR JSON, driven by the type model. A single streaming pass over saxes events builds
// the JSON object; every deviation from the FHIR XML rules is a 400 FhirError that names line, column
// and the FHIRPath-like location.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { isIntegerType, isResourceType, jsonPrimitiveKind, typeInfo, type ElementInfo, type TypeInfo } from './type-model.ts';
import { FHIR_NS, XHTML_NS, XhtmlWriter } from './xml-text.ts';
import { MAX_XML_DEPTH } from './nesting-limits.ts';

/** Deeper documents are refused, so that later recursive processing of the JSON cannot overflow the stack. */
export { MAX_XML_DEPTH };

type JsonObject = Record<string, unknown>;

interface Frame {
  readonly parent: Frame | undefined;
  /** The element this frame fills in its parent (undefined for the root resource and for resources in a wrapper). */
  readonly el: ElementInfo | undefined;
  /** Null for a wrapper element of type Resource (contained, Bundle.entry.resource, ...). */
  readonly type: TypeInfo | null;
  readonly obj: JsonObject;
  /** Index among repeated siblings, for messages. */
  readonly index: number;
  /** Occurrences of child elements so far (created on first child). */
  counts?: Map<string, number>;
  /** Names of repeated primitive children, whose value / shadow arrays are aligned when the frame closes. */
  primitiveArrays?: string[];
  /** The converted value attribute of a primitive element. */
  value?: unknown;
  /** The resource inside a wrapper frame. */
  resource?: JsonObject;
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Parses a FHIR R4 XML resource into FHIR JSON. Throws FhirError(400) on any violation. */
export function parseFhirXml(text: string): Resource {
  return new FhirXmlParser().parse(text);
}

class FhirXmlParser {
  private readonly sax = new SaxesParser({ xmlns: true, position: true });
  private stack: Frame | undefined;
  private result: JsonObject | undefined;
  private rootSeen = false;
  private xhtml: { writer: XhtmlWriter; frame: Frame; el: ElementInfo } | undefined;
  private depth = 0;

  parse(text: string): Resource {
    const sax = this.sax;
    sax.on('doctype', () => this.fail('DOCTYPE declarations are not allowed'));
    sax.on('opentag', (tag) => this.open(tag));
    sax.on('closetag', (tag) => this.close(tag));
    sax.on('text', (t) => this.text(t));
    sax.on('cdata', (t) => this.text(t, true));
    try {
      sax.write(text).close();
    } catch (e) {
      if (e instanceof FhirError) throw e;
      throw new FhirError(400, `Malformed XML: ${(e as Error).message}`, 'structure');
    }
    if (!this.result) this.fail('The document contains no FHIR resource');
    return this.result as unknown as Resource;
  }

  private open(tag: SaxesTagNS): void {
    if (++this.depth > MAX_XML_DEPTH) this.fail(`Elements are nested deeper than ${MAX_XML_DEPTH} levels`);
    if (this.xhtml) {
      const problem = this.xhtml.writer.open(tag);
      if (problem) this.fail(problem);
      return;
    }
    const parent = this.stack;
    if (!parent) {
      if (this.rootSeen) this.fail(`Unexpected second root element <${tag.name}>`);
      this.rootSeen = true;
      this.stack = this.openResource(tag, undefined, 'The root element');
      return;
    }
    if (parent.type === null) {
      if (parent.resource) this.fail(`A resource wrapper may contain only one resource, found <${tag.name}>`);
      this.stack = this.openResource(tag, parent, 'The content of this element');
      const allowed = parent.el!.type;
      if (allowed !== 'Resource' && allowed !== 'DomainResource' && allowed !== tag.local) this.fail(`Expected a ${allowed} resource, found ${tag.local}`);
      return;
    }
    const el = parent.type.byName.get(tag.local);
    if (!el || el.xmlAttr) this.fail(`Unknown element <${tag.name}> in ${parent.type.name}`);
    const isXhtml = el.type === 'xhtml';
    if (tag.uri !== (isXhtml ? XHTML_NS : FHIR_NS)) {
      this.fail(`Element <${tag.name}> must be in namespace ${isXhtml ? XHTML_NS : FHIR_NS}, not '${tag.uri}'`);
    }
    const counts = (parent.counts ??= new Map());
    const seen = counts.get(el.name) ?? 0;
    if (seen > 0 && !el.array) this.fail(`Element <${el.name}> may occur only once in ${parent.type.name}`);
    if (el.choiceOf && seen === 0) {
      for (const other of counts.keys()) {
        if (other !== el.name && parent.type.byName.get(other)?.choiceOf === el.choiceOf) {
          this.fail(`Only one of the choices ${el.choiceOf}[x] may be given, found ${other} and ${el.name}`);
        }
      }
    }
    counts.set(el.name, seen + 1);
    if (isXhtml) {
      const writer = new XhtmlWriter();
      const problem = writer.open(tag);
      if (problem) this.fail(problem);
      this.xhtml = { writer, frame: parent, el };
      return;
    }
    if (el.resource) {
      this.checkAttributes(tag, null, undefined);
      this.stack = { parent, el, type: null, obj: {}, index: seen };
      return;
    }
    const type = typeInfo(el.type);
    if (!type) this.fail(`No definition for type ${el.type} of ${el.path}`);
    const frame: Frame = { parent, el, type, obj: {}, index: seen };
    this.stack = frame;
    this.checkAttributes(tag, type, frame);
  }

  private openResource(tag: SaxesTagNS, wrapper: Frame | undefined, what: string): Frame {
    if (tag.uri !== FHIR_NS) this.fail(`${what} must be a FHIR resource in namespace ${FHIR_NS}, found <${tag.name}> in namespace '${tag.uri}'`);
    if (!isResourceType(tag.local)) this.fail(`${what} must be a FHIR resource, '${tag.local}' is not a resource type`);
    const type = typeInfo(tag.local)!;
    const frame: Frame = { parent: wrapper, el: undefined, type, obj: { resourceType: tag.local }, index: 0 };
    this.checkAttributes(tag, type, frame);
    return frame;
  }

  /** Takes the attributes allowed on this element (value, id, url); rejects other attributes without namespace. */
  private checkAttributes(tag: SaxesTagNS, type: TypeInfo | null, frame: Frame | undefined): void {
    for (const attr of Object.values(tag.attributes)) {
      if (attr.uri) continue; // namespace declarations, xsi:schemaLocation and the like
      const el = type?.byName.get(attr.local);
      if (!frame || !el || !el.xmlAttr) this.fail(`Attribute '${attr.name}' is not allowed on <${tag.name}>`);
      if (attr.local === 'value' && type!.kind === 'primitive') frame.value = this.convert(attr.value, type!.name, tag.name);
      else frame.obj[el.name] = attr.value;
    }
  }

  private convert(raw: string, type: string, element: string): unknown {
    switch (jsonPrimitiveKind(type)) {
      case 'boolean':
        if (raw === 'true') return true;
        if (raw === 'false') return false;
        return this.fail(`Invalid boolean '${raw}' in <${element}>`);
      case 'number': {
        if (isIntegerType(type)) {
          if (!INTEGER.test(raw)) return this.fail(`Invalid ${type} '${raw}' in <${element}>`);
          const n = Number(raw);
          const min = type === 'positiveInt' ? 1 : type === 'unsignedInt' ? 0 : INT32_MIN;
          if (n < min || n > INT32_MAX) this.fail(`${type} '${raw}' in <${element}> is out of range`);
          return n;
        }
        if (!DECIMAL.test(raw)) return this.fail(`Invalid decimal '${raw}' in <${element}>`);
        const n = Number(raw);
        if (!Number.isFinite(n)) this.fail(`Decimal '${raw}' in <${element}> is out of range`);
        return n;
      }
      default:
        if (raw === '') this.fail(`Empty value attribute in <${element}>`);
        return raw;
    }
  }

  private close(tag: SaxesTagNS): void {
    this.depth--;
    if (this.xhtml) {
      if (this.xhtml.writer.close(tag)) {
        const { frame, el, writer } = this.xhtml;
        this.xhtml = undefined;
        frame.obj[el.name] = writer.result();
      }
      return;
    }
    const frame = this.stack!;
    this.stack = frame.parent;
    if (frame.primitiveArrays) alignPrimitiveArrays(frame);
    if (frame.type === null) {
      if (!frame.resource) this.fail(`Element <${tag.name}> must contain a resource`, frame);
      attach(frame.parent!, frame.el!, frame.resource);
      return;
    }
    if (!frame.el) {
      if (!frame.parent) this.result = frame.obj;
      else frame.parent.resource = frame.obj;
      return;
    }
    const parent = frame.parent!;
    const el = frame.el;
    if (el.primitive) {
      const hasShadow = frame.obj.id !== undefined || frame.obj.extension !== undefined;
      if (frame.value === undefined && !hasShadow) this.fail(`Element <${tag.name}> has neither a value nor extensions`, frame);
      attachPrimitive(parent, el, frame.index, frame.value, hasShadow ? frame.obj : undefined);
      return;
    }
    if (isEmpty(frame.obj)) this.fail(`Element <${tag.name}> has no content`, frame);
    attach(parent, el, frame.obj);
  }

  private text(t: string, cdata = false): void {
    if (this.xhtml) {
      this.xhtml.writer.text(t);
      return;
    }
    if (cdata || /\S/.test(t)) this.fail(`Unexpected text content '${t.trim().slice(0, 40)}'`);
  }

  private fail(message: string, frame: Frame | undefined = this.stack): never {
    const where = `line ${this.sax.line}, column ${this.sax.column + 1}`;
    const path = frame ? locationOf(frame) : undefined;
    const issue: OperationOutcomeIssue = {
      severity: 'error',
      code: 'structure',
      diagnostics: `Invalid FHIR XML at ${where}${path ? ` (${path})` : ''}: ${message}`,
    };
    if (path) issue.expression = [path];
    throw new FhirError(400, [issue]);
  }
}

function isEmpty(obj: JsonObject): boolean {
  for (const _ in obj) return false;
  return true;
}

function attach(parent: Frame, el: ElementInfo, value: unknown): void {
  if (el.array) ((parent.obj[el.name] ??= []) as unknown[]).push(value);
  else parent.obj[el.name] = value;
}

/** Adds a primitive and its '_name' shadow; repeated primitives keep both arrays aligned with nulls. */
function attachPrimitive(parent: Frame, el: ElementInfo, index: number, value: unknown, shadow: JsonObject | undefined): void {
  const name = el.name;
  if (!el.array) {
    if (value !== undefined) parent.obj[name] = value;
    if (shadow) parent.obj['_' + name] = shadow;
    return;
  }
  const values = parent.obj[name] as unknown[] | undefined;
  if (!values) {
    parent.obj[name] = [value ?? null];
    (parent.primitiveArrays ??= []).push(name);
  } else values.push(value ?? null);
  if (shadow) {
    const shadows = ((parent.obj['_' + name] ??= []) as unknown[]);
    while (shadows.length < index) shadows.push(null);
    shadows.push(shadow);
  }
}

/** Pads shadow arrays to the length of their value arrays and drops value arrays that hold only nulls. */
function alignPrimitiveArrays(frame: Frame): void {
  for (const name of frame.primitiveArrays!) {
    const values = frame.obj[name] as unknown[];
    const shadows = frame.obj['_' + name] as unknown[] | undefined;
    if (shadows) while (shadows.length < values.length) shadows.push(null);
    if (values.every((v) => v === null)) delete frame.obj[name];
  }
}

/** 'Task.input[1].valueString' for a frame. */
function locationOf(frame: Frame): string {
  const parts: string[] = [];
  for (let f: Frame | undefined = frame; f; f = f.parent) {
    if (f.el) parts.push(f.el.array ? `${f.el.name}[${f.index}]` : f.el.name);
    else if (!f.parent) parts.push(f.obj.resourceType as string); // nested resources are addressed through their wrapper
  }
  return parts.reverse().join('.');
}
