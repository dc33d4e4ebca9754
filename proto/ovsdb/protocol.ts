// RFC 7047 wire shapes that both the server and the client library speak: operations,
// conditions, mutations, results and monitor requests, as TypeScript types. Values are
// OVSDB's JSON notation: ["uuid", s], ["named-uuid", s], ["set", [...]], ["map", [[k, v]...]].

export type OvsdbAtom = string | number | boolean | ['uuid', string] | ['named-uuid', string];
export type OvsdbValue = OvsdbAtom | ['set', OvsdbAtom[]] | ['map', [OvsdbAtom, OvsdbAtom][]];
export type OvsdbRow = Record<string, OvsdbValue>;

export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
export type Clause = [column: string, fn: ConditionFunction, value: OvsdbValue] | boolean;
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type Mutation = [column: string, mutator: Mutator, value: OvsdbValue];

export type Operation =
  | { op: 'insert'; table: string; row: OvsdbRow; 'uuid-name'?: string; uuid?: string }
  | { op: 'select'; table: string; where: Clause[]; columns?: string[]; sort?: string[] }
  | { op: 'update'; table: string; where: Clause[]; row: OvsdbRow }
  | { op: 'mutate'; table: string; where: Clause[]; mutations: Mutation[] }
  | { op: 'delete'; table: string; where: Clause[] }
  | {
      op: 'wait';
      table: string;
      where: Clause[];
      columns?: string[];
      until: '==' | '!=';
      rows: OvsdbRow[];
      timeout?: number;
    }
  | { op: 'commit'; durable: boolean }
  | { op: 'abort' }
  | { op: 'comment'; comment: string }
  | { op: 'assert'; lock: string };

/** An RFC 7047 error object. */
export interface OvsdbErrorObject {
  error: string;
  details?: string;
  syntax?: string;
  'io-error'?: string;
}

export interface OperationResult {
  uuid?: ['uuid', string];
  rows?: OvsdbRow[];
  count?: number;
}

export interface MonitorSelect {
  initial?: boolean;
  insert?: boolean;
  delete?: boolean;
  modify?: boolean;
}

export interface MonitorRequest {
  columns?: string[];
  select?: MonitorSelect;
  /** monitor_cond only. */
  where?: Clause[];
}

export type MonitorRequests = Record<string, MonitorRequest | MonitorRequest[]>;

/** <row-update2> of update2/update3. */
export type RowUpdate2 =
  | { initial: OvsdbRow }
  | { insert: OvsdbRow }
  | { modify: OvsdbRow }
  | { delete: null };

export type TableUpdates2 = Record<string, Record<string, RowUpdate2>>;

/** The default OVSDB TCP/SSL port (IANA). */
export const OVSDB_PORT = 6640;

/** Where Debian and Ubuntu's openvswitch-common put the Open_vSwitch schema. */
export const DEFAULT_SCHEMA_PATH = '/usr/share/openvswitch/vswitch.ovsschema';
