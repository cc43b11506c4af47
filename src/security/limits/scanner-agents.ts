/**
 * User-Agents of SIP scanners and crackers, dropped without an answer (security.md §4.1): Kamailio's default cfg
 * pattern (`friendly|scanner|sipcli|sipvicious|VaxSIPUserAgent|pplsip`) with sipvicious' `friendly-scanner`, plus
 * sundayddr and iWar. Matched case-insensitively anywhere in the header.
 */
const SCANNER_AGENTS = /friendly|scanner|sipcli|sipvicious|vaxsipuseragent|pplsip|sundayddr|iwar/i;

export function isScannerAgent(userAgent: string): boolean {
  return SCANNER_AGENTS.test(userAgent);
}
