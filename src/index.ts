/**
 * tcpinfo: Traffic Server's tcpinfo plugin for Node.js HTTP servers.
 *
 *   import { attach } from 'tcpinfo';
 *   const handle = attach(server, '--hooks=ssn_start,txn_close --log-level=2');
 */
export { attach } from './attach.js';
export type { TcpinfoHandle, TcpinfoStats } from './attach.js';
export { parseOptions, describeOptions, TcpinfoConfigError, type ConfigProblem } from './config/options.js';
export { describeLogging } from './config/describe.js';
export { parseConfig, loadConfig } from './config/plugin-config.js';
export { HOOK_NAMES, type HookName } from './events.js';
export type { MetricsRegistryLike, TcpinfoOptions, TcpinfoOptionsInput } from './config/types.js';
export { readTcpInfo, isSupported, kernelTcpInfoLength, failedReadCount } from './tcpinfo/read.js';
export { requestTcpInfo } from './explain/request-tcpinfo.js';
export type { RequestTcpInfo, RequestTransaction } from './explain/request-tcpinfo.js';
export type { Verdict } from './explain/verdict.js';
export type { TcpInfo } from './tcpinfo/read.js';
export { TCP_INFO_FIELDS, TCP_INFO_FIELD_NAMES } from './tcpinfo/layout.js';
export type { FieldSpec, TcpInfoFieldName } from './tcpinfo/layout.js';
