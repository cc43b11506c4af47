/** The self-signed certificate maker the benchmarks use (openssl, P-256), for loopback TLS and WSS tests. */
export { makeSelfSigned, type SelfSigned } from '../../bench/load/self-signed.js';
