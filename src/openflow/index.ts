// src/openflow — the OpenFlow 1.3 library: the codec declared in proto/openflow and the
// switch-side endpoint. Published as `xdpswitch/openflow`.
export * from '../../proto/openflow/index.js';
export { Framer, FramingError } from './framing.js';
export { OpenFlowEndpoint, type ActiveConnection, type AsyncMessage, type ConnectOptions, type EndpointOptions, type Listener } from './endpoint.js';
export type { BundledMessage, BundleResult, ConnectionInfo, ConnectionType, ControllerRole, HandledMessage, HandlerResult, OpenFlowHandler, SwitchFeatures } from './handler.js';
export { silentLogger, stderrLogger, type Logger, type LogLevel } from './log.js';
export { parseTarget, formatTarget, type Target } from './target.js';
export { encodeMultipartReply } from './multipart-split.js';
export { defaultAsyncConfig, type AsyncConfig } from './roles.js';
export { formatVersions, SUPPORTED_VERSIONS, versionsFromProtocols } from './versions.js';
export { actionsFrom10, actionsTo10, matchFrom10, matchTo10, messageTo10, port16, port32, requestFrom10 } from './of10.js';
export { ControllerConnection, listenForSwitches, OfpRemoteError, type ControllerConnectionEvents } from './controller.js';
