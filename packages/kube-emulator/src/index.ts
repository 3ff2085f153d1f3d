/**
 * The Kubernetes API emulator behind `sympozium dev` and the conformance tests: a server that real kubectl
 * v1.32 and @kubernetes/client-node accept as a cluster. Its README says what it emulates and what not.
 */
export { startApiServer } from './server.js';
export { PORT_FORWARD_ANNOTATION } from './port-forward-route.js';
export type { ApiServer, ApiServerOptions } from './server.js';
export type { RequestLogEntry } from './http-util.js';
export type { FaultInjector, FaultRule } from './faults.js';
/** Structural-schema pruning and validation of a custom resource, as the API server applies a CRD's schema. */
export { processCustomResource } from './schema.js';
