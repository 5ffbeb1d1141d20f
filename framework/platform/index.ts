/**
 * @module platform
 * Platform files (the machine, as a device tree in JSON) and the driver index (manifests read
 * without loading driver code). See README.md for both formats.
 */
export * from './types.js';
export { PlatformError, parsePlatform, loadPlatformFile, loadPlatformWithDrivers, platformToJson, type PlatformParseOptions } from './platform-file.js';
export { DriverIndex, type DriverMatch } from './driver-index.js';
export { parseManifest, loadManifest, checkParamValue, PARAM_TYPES, type ManifestResult, type ParamDecl, type ParamType } from './manifest.js';
export { ioctlNumber, decodeIoctl, ioctlTypeCode, ioctlFormatSize, IOCTL_DIRS, IOCTL_FORMAT_ELEMENTS, type DecodedIoctl, type IoctlDir } from './ioctl.js';
export { formatDiagnostic, type Diagnostic } from './diagnostic.js';
export { PHYS_ADDR_LIMIT, IRQ_MAX } from './platform-read.js';
export { parseJsonLocated, JsonSyntaxError, type LocatedJson, type SourcePos } from './json-locate.js';
export { levenshtein, closest, didYouMean } from './suggest.js';
