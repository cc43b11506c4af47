import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { EventBodyError } from '../event-package.js';

/** A parsed element as fast-xml-parser gives it: attributes under `@_name`, text under `#text` or as a bare string. */
export type XmlNode = Record<string, unknown>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Builds a reader for one document type. Namespace prefixes are dropped (`dm:person` reads as `person`), because
 * publishers choose their own prefixes; the root element's local name is checked instead. `arrays` lists the element
 * names that may repeat, so they always come back as arrays.
 */
export function xmlReader(root: string, arrays: readonly string[]): (body: Buffer) => XmlNode {
  const repeated = new Set(arrays);
  const options = {
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    trimValues: true,
    isArray: (name: string) => repeated.has(name),
    // Callbacks get the parser's path matcher instead of a path string built for every element and attribute; ours
    // read only the name. About 9% of a one-dialog PUBLISH body's parse (36 against 40 µs).
    jPath: false,
  };
  // Decoding numeric character references (&#233;) needs htmlEntities, which tripled the cost of every parse
  // (~115 µs against ~38 µs for a one-dialog PUBLISH body). A document without '&' has no reference of any kind, so
  // it reads the same with the plain parser; only documents with one pay for the decoding.
  const withEntities = new XMLParser({ ...options, htmlEntities: true });
  const plain = new XMLParser(options);
  return (body) => {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      throw new EventBodyError(400, 'body is not valid UTF-8');
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') throw new EventBodyError(400, `empty body: expected a <${root}> document`);
    // Internal entities are a denial-of-service vector (entity expansion) and no presence document needs a DTD.
    if (/<!DOCTYPE/i.test(text)) throw new EventBodyError(400, 'a DOCTYPE is not allowed in the body');
    const valid = XMLValidator.validate(text);
    if (valid !== true) {
      throw new EventBodyError(400, `body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
    }
    let doc: XmlNode;
    try {
      doc = (text.includes('&') ? withEntities : plain).parse(text) as XmlNode;
    } catch (err) {
      // The parser finds some faults the validator lets through (a quote left open in the XML declaration): the
      // body is at fault, not the server, so it is a 400 like any other.
      throw new EventBodyError(400, `body is not well-formed XML: ${(err as Error).message}`);
    }
    const top = doc[root];
    if (top === undefined) {
      const found = Object.keys(doc)[0];
      throw new EventBodyError(400, `expected a <${root}> root element${found ? `, found <${found}>` : ''}`);
    }
    // An empty root element comes back as ''; give callers an object either way.
    return typeof top === 'object' && top !== null && !Array.isArray(top) ? (top as XmlNode) : {};
  };
}

/** The text content of an element that may have attributes (`{ '#text': ... }`) or be empty (''). */
export function textOf(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    const t = (node as XmlNode)['#text'];
    if (t !== undefined) return String(t);
    return '';
  }
  return undefined;
}

/** An attribute value, or undefined when absent. */
export function attrOf(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const v = (node as XmlNode)[`@_${name}`];
  return v === undefined ? undefined : String(v);
}

/** A child element as an object (an element with only text or nothing becomes `{ '#text' }` / `{}`). */
export function childOf(node: unknown, name: string): XmlNode | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const c = (node as XmlNode)[name];
  if (c === undefined) return undefined;
  const first = Array.isArray(c) ? c[0] : c;
  if (first && typeof first === 'object') return first as XmlNode;
  return first === undefined || first === '' ? {} : { '#text': first };
}

/** Every child element with this name, as objects. */
export function childrenOf(node: unknown, name: string): XmlNode[] {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return [];
  const c = (node as XmlNode)[name];
  if (c === undefined) return [];
  const list = Array.isArray(c) ? c : [c];
  return list.map((v) => (v && typeof v === 'object' ? (v as XmlNode) : v === '' ? {} : { '#text': v }));
}
