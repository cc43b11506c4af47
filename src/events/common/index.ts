export { escapeXml } from './escape-xml.js';
export { stableId } from './stable-id.js';
export { mediaTypeOf, requireMediaType } from './media-type.js';
export { xmlReader, textOf, attrOf, childOf, childrenOf, type XmlNode } from './read-xml.js';
