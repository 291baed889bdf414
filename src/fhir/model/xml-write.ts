// FHIR JSON -> FHIR R4 XML, the inverse of parseFhirXml: elements in definition order, Element.id and
// Extension.url as attributes, '_name' shadows merged into their primitive elements, XHTML narrative
// in its own namespace, contained and nested resources inside their wrapper elements.
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../common/errors.ts';
import { isResourceType, typeInfo, type ElementInfo, type TypeInfo } from './type-model.ts';
import { FHIR_NS, XHTML_NS, canonicalXhtml, escapeAttr, escapeText } from './xml-text.ts';
import { replaceForbiddenCharacters } from './fhir-characters.ts';
import { MAX_JSON_DEPTH } from './nesting-limits.ts';

export interface FhirXmlWriteOptions {
  /** Indent nested elements by two spaces, one element a line. */
  pretty?: boolean;
}

type JsonObject = Record<string, unknown>;

/** Writes a FHIR JSON resource as FHIR XML. Throws FhirError(500) if the JSON does not fit the FHIR definitions. */
export function toFhirXml(resource: Resource, opts: FhirXmlWriteOptions = {}): string {
  const w = new XmlWriter(!!opts.pretty);
  w.resource(resource as unknown as JsonObject, 0, `xmlns="${FHIR_NS}"`, '');
  return w.out;
}

interface Child {
  el: ElementInfo;
  value: unknown;
  shadow: unknown;
}

class XmlWriter {
  out = '';

  constructor(private readonly pretty: boolean) {}

  private indent(depth: number): void {
    if (this.pretty) this.out += (this.out ? '\n' : '') + '  '.repeat(depth);
  }

  resource(res: JsonObject, depth: number, rootAttrs: string, path: string): void {
    this.checkDepth(depth, path);
    const rt = res?.resourceType;
    if (typeof rt !== 'string' || !isResourceType(rt)) fail(`'${String(rt)}' is not a FHIR resource type`, path);
    const type = typeInfo(rt)!;
    const here = path || rt;
    const children = this.children(res, type, here);
    this.indent(depth);
    const open = rootAttrs ? `<${rt} ${rootAttrs}` : `<${rt}`;
    if (!children.length) {
      this.out += open + '/>';
      return;
    }
    this.out += open + '>';
    this.writeChildren(children, depth + 1, here);
    this.indent(depth);
    this.out += `</${rt}>`;
  }

  /** The element properties of an object in definition order; rejects properties the type does not define. */
  private children(obj: JsonObject, type: TypeInfo, path: string): Child[] {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) fail(`expected an object of type ${type.name}`, path);
    const out: Child[] = [];
    for (const key in obj) {
      if (key === 'resourceType' && type.kind === 'resource') continue;
      const isShadow = key.charCodeAt(0) === 95; /* '_' */
      const name = isShadow ? key.slice(1) : key;
      const el = type.byName.get(name);
      if (!el || (isShadow && !el.primitive)) fail(`unknown property '${key}' in ${type.name}`, path);
      if (el.xmlAttr) continue;
      if (isShadow && obj[name] !== undefined) continue; // written together with its value
      out.push({ el, value: obj[name], shadow: el.primitive ? obj['_' + name] : undefined });
    }
    if (out.length > 1) out.sort((a, b) => a.el.order - b.el.order);
    return out;
  }

  private writeChildren(children: Child[], depth: number, path: string): void {
    for (const { el, value, shadow } of children) {
      const here = `${path}.${el.name}`;
      if (el.primitive) {
        if (el.array) {
          if ((value !== undefined && !Array.isArray(value)) || (shadow !== undefined && !Array.isArray(shadow))) fail('expected an array', here);
          const values = (value ?? []) as unknown[];
          const shadows = (shadow ?? []) as unknown[];
          const n = Math.max(values.length, shadows.length);
          for (let i = 0; i < n; i++) this.primitive(el, values[i] ?? undefined, shadows[i] ?? undefined, depth, `${here}[${i}]`);
        } else this.primitive(el, value, shadow, depth, here);
        continue;
      }
      const items = el.array ? value : [value];
      if (!Array.isArray(items)) fail(el.array ? 'expected an array' : 'expected a single value, not an array', here);
      if (!el.array && Array.isArray(value)) fail('expected a single value, not an array', here);
      for (let i = 0; i < items.length; i++) {
        const itemPath = el.array ? `${here}[${i}]` : here;
        const item = items[i];
        if (el.type === 'xhtml') this.xhtml(item, depth, itemPath);
        else if (el.resource) {
          this.indent(depth);
          this.out += `<${el.name}>`;
          this.resource(item as JsonObject, depth + 1, '', itemPath);
          this.indent(depth);
          this.out += `</${el.name}>`;
        } else this.complex(el, item as JsonObject, depth, itemPath);
      }
    }
  }

  private primitive(el: ElementInfo, value: unknown, shadow: unknown, depth: number, path: string): void {
    if (value === undefined && shadow === undefined) return;
    let attrs = '';
    let extensions: Child[] = [];
    if (shadow !== undefined) {
      if (typeof shadow !== 'object' || shadow === null || Array.isArray(shadow)) fail(`expected an object in '_${el.name}'`, path);
      const s = shadow as JsonObject;
      for (const key in s) if (key !== 'id' && key !== 'extension') fail(`unknown property '${key}' in '_${el.name}'`, path);
      if (s.id !== undefined) attrs += ` id="${attr(s.id, path)}"`;
      if (s.extension !== undefined) extensions = [{ el: typeInfo('Element')!.byName.get('extension')!, value: s.extension, shadow: undefined }];
    }
    if (value !== undefined) {
      if (value === null || typeof value === 'object') fail('expected a primitive value', path);
      attrs += ` value="${attr(value, path)}"`;
    }
    this.indent(depth);
    if (!extensions.length) {
      this.out += `<${el.name}${attrs}/>`;
      return;
    }
    this.out += `<${el.name}${attrs}>`;
    this.writeChildren(extensions, depth + 1, path);
    this.indent(depth);
    this.out += `</${el.name}>`;
  }

  /** Input is refused deeper than this (json-parse.ts); the guard keeps the recursion finite for anything else. */
  private checkDepth(depth: number, path: string): void {
    if (depth > MAX_JSON_DEPTH) fail(`nested deeper than ${MAX_JSON_DEPTH} levels`, path.length > 200 ? `${path.slice(0, 200)}...` : path);
  }

  private complex(el: ElementInfo, obj: JsonObject, depth: number, path: string): void {
    this.checkDepth(depth, path);
    const type = typeInfo(el.type);
    if (!type) fail(`no definition for type ${el.type}`, path);
    const children = this.children(obj, type, path);
    let attrs = '';
    for (const key of ['id', 'url']) {
      const v = obj[key];
      if (v !== undefined && type.byName.get(key)?.xmlAttr) attrs += ` ${key}="${attr(v, `${path}.${key}`)}"`;
    }
    this.indent(depth);
    if (!children.length) {
      this.out += `<${el.name}${attrs}/>`;
      return;
    }
    this.out += `<${el.name}${attrs}>`;
    this.writeChildren(children, depth + 1, path);
    this.indent(depth);
    this.out += `</${el.name}>`;
  }

  private xhtml(div: unknown, depth: number, path: string): void {
    if (typeof div !== 'string') fail('expected an XHTML string', path);
    // Normalised through an XML parser so the output stays well-formed; unparsable narrative is kept as text.
    const canonical = canonicalXhtml(div) ?? `<div xmlns="${XHTML_NS}">${escapeText(replaceForbiddenCharacters(div))}</div>`;
    this.indent(depth);
    this.out += canonical;
  }
}

function attr(value: unknown, path: string): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') fail('expected a primitive value', path);
  // Input refuses what XML cannot carry; data stored before that rule is written with U+FFFD instead.
  return escapeAttr(replaceForbiddenCharacters(String(value)));
}

function fail(message: string, path: string): never {
  throw new FhirError(500, [{ severity: 'error', code: 'structure', diagnostics: `Cannot write FHIR XML at ${path}: ${message}`, expression: [path] }]);
}
