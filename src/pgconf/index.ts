// PostgreSQL configuration files as data: parse, analyse, edit, serialize. Pure: no fs, no SSH.
export {
  HBA_CONNECTION_TYPES,
  HBA_METHODS,
  formatAddress,
  formatRule,
  formatToken,
  parseHba,
  serializeHba,
} from './hba.js';
export type {
  HbaAddress,
  HbaConnectionType,
  HbaFile,
  HbaInclude,
  HbaLine,
  HbaMethod,
  HbaParseError,
  HbaRule,
  HbaToken,
} from './hba.js';
export {
  MANAGED_BEGIN,
  MANAGED_END,
  commentOutRule,
  convertHostToHostssl,
  findManagedBlock,
  removeManagedBlock,
  setManagedBlock,
} from './hba-edit.js';
export type { ConvertOptions } from './hba-edit.js';
export {
  findShadowedRules,
  insecureRules,
  matchConnection,
  operatorAccess,
  wouldLockOut,
} from './hba-analysis.js';
export type {
  ConnectionAttempt,
  HbaFinding,
  HbaFindingId,
  MatchResult,
  OperatorAccess,
  OperatorConnection,
  ShadowedRule,
  Tri,
} from './hba-analysis.js';
export { addMapping, hasMapping, identMapAllows, parseIdent, serializeIdent } from './ident.js';
export type {
  IdentEntry,
  IdentFile,
  IdentInclude,
  IdentLine,
  IdentMapping,
  IdentParseError,
  IdentToken,
} from './ident.js';
export {
  commentOutParam,
  effective,
  formatConfValue,
  parseConf,
  serializeConf,
  setParam,
} from './postgresql-conf.js';
export type {
  ConfFile,
  ConfInclude,
  ConfLine,
  ConfParam,
  ConfParseError,
  ConfValue,
} from './postgresql-conf.js';
export type { Eol } from './lines.js';
