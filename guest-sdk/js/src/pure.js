// Everything of the SDK that needs no host: what Node's tests import
// (src/index.js imports the WIT interfaces, which exist only in a component).

export { PolicyError, ProbeError, attempt, describeProbeError, probeErrorOf } from './errors.js';
export { quote, rustTrim, asciiLowercase, display } from './format.js';
export { Settings } from './settings.js';
export { Verdict, healthy, failed, failedFrom, verdictToWit } from './verdict.js';
export { formatState, parseState } from './state.js';
