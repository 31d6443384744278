/*
 * The SQL of trigger mode, generated as text so the installer, `auditkit triggers install --print-sql`
 * and a migration pasted by hand run exactly the same statements.
 *
 * Why it is shaped this way (each point was measured with callgrind on PostgreSQL 15, see bench/triggers):
 * - One generated function per table with its settings as constants: PL/pgSQL plans them once per
 *   session, where trigger arguments or a settings table would be parsed or read on every row.
 * - Columns are found at run time from `to_jsonb(NEW)` (one `jsonb_each` aggregate, the same plan for
 *   2 or 200 columns), never from a column list baked in at install time: a column added, renamed or
 *   dropped later never makes the business write fail, and new columns are recorded (masked when
 *   their name looks like a secret).
 * - One INSERT per row into `audit_events`, whose `data` is built in the same statement.
 * - The transaction's context (`auditkit.context`) is checked and normalised once per transaction
 *   and kept in two transaction-local settings; later rows only parse the normalised text.
 * - Without a context the row needs no lookup at all: actor `system` with the database user, the
 *   client's application_name (as the user agent) and address.
 * - Values are cleaned like the redactor cleans them (secret keys inside JSON, JSON Web Tokens,
 *   strings cut at 8192 characters with the same marker) by a slower function that only runs for
 *   values that might need it (large ones, containers with secret-looking keys, strings with `eyJ`).
 */
import { CHANGE_ACTIONS, RELATION_ACTIONS } from '../diff.js';
import { dollarTag, qualify, shortHash, sqlString } from './sql-text.js';
import { holdsKeys, keySql, type TriggerPlan } from './trigger-plan.js';

/** The transaction-local setting the app writes its context to (`set_config(..., true)`). */
export const CONTEXT_SETTING = 'auditkit.context';
/** The normalised context of the current transaction, and the raw text it was made from. */
const EVENT_CONTEXT_SETTING = 'auditkit.event_context';
const CONTEXT_SOURCE_SETTING = 'auditkit.context_source';

/** Names of the triggers put on a business table. */
export const TRIGGER_NAMES = {
  insert: 'auditkit_changes_insert',
  update: 'auditkit_changes_update',
  delete: 'auditkit_changes_delete',
} as const;

/** The table of installed triggers (in the audit schema): what `status` lists. */
export const TRIGGERS_TABLE = 'auditkit_triggers';

/** SQLSTATE of "the audit table is missing" raised by the triggers. */
export const MISSING_AUDIT_TABLE_SQLSTATE = 'AK002';

const REDACTED_JSON = `'"[REDACTED]"'::jsonb`;
/** White space and the separators the redactor ignores in key names. */
const KEY_SEPARATORS = `E' \\t\\n\\r\\f\\v-_.'`;

/** The session setting that says the audit table of this schema was found once. */
function readySetting(auditSchema: string): string {
  return `auditkit.ready_${shortHash(auditSchema)}`;
}

/** The session setting holding the tenant and actor of changes made without a context. */
function systemSetting(auditSchema: string): string {
  return `auditkit.system_${shortHash(auditSchema)}`;
}

/** The name of the generated trigger function of a table (in the audit schema), at most 63 bytes. */
export function functionNameFor(table: { schema: string; name: string }): string {
  const readable = table.name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 30);
  return `auditkit_capture_${readable}_${shortHash(`${table.schema}.${table.name}`)}`;
}

const normalisedKey = (key: string) => `translate(lower(${key}), ${KEY_SEPARATORS}, '')`;

/**
 * The statements that create what every trigger of an audit schema shares: the table of installed
 * triggers and three functions. Idempotent (`IF NOT EXISTS`, `CREATE OR REPLACE`).
 */
export function sharedSql(auditSchema: string): string[] {
  const q = (name: string) => qualify(auditSchema, name);
  const events = q('audit_events');
  const ready = `CREATE OR REPLACE FUNCTION ${q('auditkit_trigger_session')}() RETURNS void LANGUAGE plpgsql AS $ak$
BEGIN
  -- Once per session: later rows only read the setting. A table dropped after that fails with
  -- PostgreSQL's own "does not exist" error.
  IF to_regclass(${sqlString(events)}) IS NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = '${MISSING_AUDIT_TABLE_SQLSTATE}',
      MESSAGE = ${sqlString(`Auditkit cannot record this change: the audit table ${events} does not exist.`)},
      HINT = ${sqlString(
        `Run "auditkit migrate --schema ${auditSchema}" (or audit.migrate()) against this database, ` +
          'or remove the audit triggers with "auditkit triggers uninstall <table>".',
      )};
  END IF;
  -- Tenant and actor of changes made without a context, for the rest of the session.
  PERFORM set_config(${sqlString(systemSetting(auditSchema))}, jsonb_build_object('tenantId', NULL, 'actor',
    jsonb_strip_nulls(jsonb_build_object('type', 'system', 'id', session_user::text,
      'userAgent', nullif(current_setting('application_name', true), ''), 'ip', host(inet_client_addr()))))::text, false);
  PERFORM set_config(${sqlString(readySetting(auditSchema))}, 'on', false);
END
$ak$`;

  const textOf = (expression: string) => {
    const value = `(${expression})`;
    return `CASE jsonb_typeof(${value}) WHEN 'string' THEN ${value} #>> '{}' WHEN 'number' THEN ${value}::text WHEN 'boolean' THEN ${value}::text END`;
  };
  const fields = (source: string, names: string[]) =>
    `jsonb_strip_nulls(jsonb_build_object(${names.map((n) => `'${n}', ${textOf(`${source} -> '${n}'`)}`).join(', ')}))`;
  const context = `CREATE OR REPLACE FUNCTION ${q('auditkit_trigger_context')}(raw text) RETURNS text LANGUAGE plpgsql AS $ak$
DECLARE
  given jsonb;
  actor jsonb;
  kind text;
  part jsonb;
  result jsonb;
  problem text;
BEGIN
  -- Once per transaction (and again when the app sets another context): a hand-written or broken
  -- context never fails the write, it is recorded as what it is.
  BEGIN
    given := raw::jsonb;
  EXCEPTION WHEN others THEN
    problem := 'auditkit.context is not valid JSON';
  END;
  IF given IS NOT NULL AND jsonb_typeof(given) <> 'object' THEN
    problem := 'auditkit.context is not a JSON object';
    given := NULL;
  END IF;
  IF jsonb_typeof(given -> 'actor') = 'object' THEN
    actor := given -> 'actor';
    kind := actor ->> 'type';
    IF kind IS NULL OR kind NOT IN ('user', 'service', 'system', 'anonymous') THEN
      kind := CASE WHEN actor ? 'id' THEN 'user' ELSE 'anonymous' END;
    END IF;
    actor := jsonb_build_object('type', kind) || ${fields('actor', ['id', 'label', 'ip', 'userAgent', 'sessionId'])};
  ELSE
    actor := jsonb_strip_nulls(jsonb_build_object('type', 'system', 'id', session_user::text,
      'userAgent', nullif(current_setting('application_name', true), ''), 'ip', host(inet_client_addr())));
  END IF;
  result := jsonb_build_object('tenantId', ${textOf(`given -> 'tenantId'`)}, 'actor', actor);
  IF jsonb_typeof(given -> 'correlation') = 'object' THEN
    part := ${fields(`(given -> 'correlation')`, ['requestId', 'traceId', 'spanId', 'correlationId', 'processId', 'stepId'])};
    IF part <> '{}' THEN result := result || jsonb_build_object('correlation', part); END IF;
  END IF;
  IF jsonb_typeof(given -> 'request') = 'object' THEN
    part := ${fields(`(given -> 'request')`, ['id', 'method', 'path', 'route'])};
    IF part <> '{}' THEN result := result || jsonb_build_object('request', part); END IF;
  END IF;
  part := CASE WHEN jsonb_typeof(given -> 'metadata') = 'object' THEN given -> 'metadata' END;
  IF problem IS NOT NULL THEN
    part := coalesce(part, '{}') || jsonb_build_object('auditkitContextError', problem);
  END IF;
  IF part IS NOT NULL THEN result := result || jsonb_build_object('metadata', part); END IF;
  -- Set by withoutAuditing: the row triggers record nothing (the key never reaches an event).
  IF given ->> 'capture' = 'off' THEN result := result || '{"capture": "off"}'; END IF;
  PERFORM set_config('${EVENT_CONTEXT_SETTING}', result::text, true);
  PERFORM set_config('${CONTEXT_SOURCE_SETTING}', raw, true);
  RETURN result::text;
END
$ak$`;

  const clean = `CREATE OR REPLACE FUNCTION ${q('auditkit_clean_value')}(v jsonb, depth integer, secret text) RETURNS jsonb LANGUAGE plpgsql AS $ak$
DECLARE
  kind text := jsonb_typeof(v);
  s text;
  n bigint;
  result jsonb;
BEGIN
  -- What the redactor does to a value (src/core/redact.ts), for the rare values that need it.
  IF kind = 'string' THEN
    s := v #>> '{}';
    IF strpos(s, 'eyJ') > 0 THEN
      s := regexp_replace(s, '\\yeyJ[A-Za-z0-9_-]{4,}\\.eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*', '[REDACTED]', 'g');
    END IF;
    n := length(s);
    IF n > 8192 THEN
      s := left(s, 8192) || '…[truncated, ' || n || ' chars]';
    END IF;
    RETURN to_jsonb(s);
  END IF;
  IF kind IS NULL OR kind NOT IN ('object', 'array') THEN
    RETURN v;
  END IF;
  IF depth >= 32 THEN
    RETURN '"[MaxDepth]"';
  END IF;
  IF kind = 'object' THEN
    SELECT jsonb_object_agg(e.key, CASE WHEN ${normalisedKey('e.key')} ~ secret THEN ${REDACTED_JSON}
      ELSE ${q('auditkit_clean_value')}(e.value, depth + 1, secret) END)
      INTO result FROM (SELECT key, value FROM jsonb_each(v) LIMIT 1000) e;
    SELECT count(*) INTO n FROM jsonb_object_keys(v);
    IF n > 1000 THEN
      result := result || jsonb_build_object('…', '[' || (n - 1000) || ' more keys]');
    END IF;
    RETURN coalesce(result, '{}');
  END IF;
  SELECT jsonb_agg(${q('auditkit_clean_value')}(e.value, depth + 1, secret) ORDER BY e.i)
    INTO result FROM jsonb_array_elements(v) WITH ORDINALITY AS e(value, i) WHERE e.i <= 1000;
  n := jsonb_array_length(v);
  IF n > 1000 THEN
    result := result || to_jsonb('…[' || (n - 1000) || ' more items]');
  END IF;
  RETURN coalesce(result, '[]');
END
$ak$`;

  const cleanChanges = `CREATE OR REPLACE FUNCTION ${q('auditkit_clean_changes')}(changes jsonb, secret text) RETURNS jsonb LANGUAGE sql AS $ak$
  -- Each side of each [before, after] pair cleaned like a value two levels down in an event.
  SELECT coalesce(jsonb_object_agg(c.key, CASE WHEN jsonb_typeof(c.value) = 'array' AND jsonb_array_length(c.value) = 2
      THEN jsonb_build_array(${q('auditkit_clean_value')}(c.value -> 0, 2, secret), ${q('auditkit_clean_value')}(c.value -> 1, 2, secret))
      ELSE ${q('auditkit_clean_value')}(c.value, 1, secret) END), '{}'::jsonb)
  FROM jsonb_each(changes) c
$ak$`;

  return [
    `CREATE TABLE IF NOT EXISTS ${q(TRIGGERS_TABLE)} (
  table_schema text NOT NULL,
  table_name text NOT NULL,
  function_name text NOT NULL,
  options jsonb NOT NULL,
  primary_key text[] NOT NULL,
  columns jsonb NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_schema, table_name))`,
    ready,
    context,
    clean,
    cleanChanges,
  ];
}

/** A jsonb object whose keys are the given column names: a set that `?` looks up in O(log n). */
function columnSet(plan: TriggerPlan, modes: readonly string[]): string | null {
  const names = Object.entries(plan.modes)
    .filter(([, mode]) => modes.includes(mode))
    .map(([column]) => column);
  return names.length === 0
    ? null
    : `${sqlString(JSON.stringify(Object.fromEntries(names.map((n) => [n, 1]))))}::jsonb`;
}

/**
 * The statements that put into `ch` one `[before, after]` pair per recorded column of one row change
 * (NULL when none), cleaned like the redactor cleans values when one might need it, and into `tid`
 * the target id (`key`). PostgreSQL sets up a statement's expressions again on every row, and only
 * for the statements that run: so the usual case (no column added since the install, nothing to
 * clean) runs the smallest expressions, and the rest sits in branches that rarely run.
 */
function changesSql(plan: TriggerPlan, operation: Operation, key: string): string {
  const before =
    operation === 'insert'
      ? 'NULL::jsonb'
      : operation === 'delete'
        ? 'e.value'
        : `coalesce(o -> e.key, 'null'::jsonb)`;
  const after = operation === 'delete' ? 'NULL::jsonb' : 'e.value';
  const image = operation === 'delete' ? 'o' : 'n';
  const masked = (value: string) =>
    value === 'NULL::jsonb'
      ? value
      : `CASE WHEN ${value} = 'null'::jsonb THEN 'null'::jsonb ELSE ${REDACTED_JSON} END`;
  const plain = `jsonb_build_array(${before}, ${after})`;
  const redact = `jsonb_build_array(${masked(before)}, ${masked(after)})`;
  const hidden = `'["[REDACTED]","[REDACTED]"]'::jsonb`;
  const redactSet = columnSet(plan, ['r']);
  const hiddenSet = columnSet(plan, ['c']);
  const maskBranches = [
    ...(redactSet ? [`WHEN ${redactSet} ? e.key THEN ${redact}`] : []),
    ...(hiddenSet ? [`WHEN ${hiddenSet} ? e.key THEN ${hidden}`] : []),
  ];
  const known = maskBranches.length > 0 ? `CASE ${maskBranches.join(' ')} ELSE ${plain} END` : plain;
  const filters: string[] = [];
  const recorded = columnSet(plan, ['', 'r', 'c']);
  const excluded = columnSet(plan, ['x']);
  if (plan.includeOnly) filters.push(recorded ? `${recorded} ? e.key` : 'false');
  else if (excluded) filters.push(`NOT ${excluded} ? e.key`);
  if (operation === 'update') filters.push('e.value IS DISTINCT FROM o -> e.key');
  const where = filters.length > 0 ? ` WHERE ${filters.join(' AND ')}` : '';
  const select = (element: string) =>
    `SELECT jsonb_object_agg(e.key, ${element}), ${key} INTO ch, tid FROM jsonb_each(${image}) e${where};`;
  let aggregate: string;
  if (plan.includeOnly) {
    aggregate = select(known); // columns added later are not recorded
  } else {
    // A column added after the install: recorded, masked when its name looks like a secret.
    const plainSet = columnSet(plan, ['']);
    const secret = `${normalisedKey('e.key')} ~ ${sqlString(plan.secretPattern)}`;
    const general = `CASE ${[...(plainSet ? [`WHEN ${plainSet} ? e.key THEN ${plain}`] : []), ...maskBranches].join(' ')} WHEN ${secret} THEN ${redact} ELSE ${plain} END`;
    const columns = `ARRAY[${plan.columns.map((c) => sqlString(c.name)).join(', ')}]::text[]`;
    aggregate = `IF ${image} - ${columns} = '{}'::jsonb THEN
    ${select(known)}
  ELSE
    -- Columns were added to the table since the install.
    ${select(general)}
  END IF;`;
  }
  const skip =
    operation === 'update' && !plan.recordNoOpUpdates
      ? '\n  IF ch IS NULL THEN\n    RETURN NULL;\n  END IF;'
      : '';
  return `${aggregate}${skip}
  IF ${cleaningNeededSql(plan)} THEN
    ch := ${qualify(plan.auditSchema, 'auditkit_clean_changes')}(ch, ${sqlString(plan.secretPattern)});
  END IF;`;
}

/**
 * True when a value of `ch` might need the redactor's cleaning: the changes are large (a value may be
 * over 8192 characters), hold `eyJ` (a JSON Web Token), or hold a secret-looking name other than the
 * masked columns' (a key inside a JSON value; tested only for tables with columns that hold keys).
 */
function cleaningNeededSql(plan: TriggerPlan): string {
  const masked = Object.entries(plan.modes)
    .filter(([, mode]) => mode === 'r' || mode === 'c')
    .map(([column]) => sqlString(column));
  const text = masked.length > 0 ? `(ch - ARRAY[${masked.join(', ')}]::text[])::text` : 'ch::text';
  const keys = plan.columns.some(holdsKeys)
    ? ` OR ${normalisedKey(text)} ~ ${sqlString(plan.secretPattern)}`
    : '';
  return `pg_column_size(ch) > 8192 OR strpos(ch::text, 'eyJ') > 0${keys}`;
}

/** The columns of `audit_events` a trigger fills (the rest keep their defaults or stay NULL). */
const EVENT_COLUMNS =
  'id, occurred_at, category, action, outcome, tenant_id, actor_type, actor_id, actor_label, ' +
  'target_type, target_id, request_id, request_path, data';

type Operation = 'insert' | 'update' | 'delete';

/** The suffix of each operation's function, and the trigger that calls it. */
const OPERATIONS: Record<Operation, { suffix: string; trigger: string; event: string }> = {
  insert: { suffix: '_i', trigger: TRIGGER_NAMES.insert, event: 'INSERT' },
  update: { suffix: '_u', trigger: TRIGGER_NAMES.update, event: 'UPDATE' },
  delete: { suffix: '_d', trigger: TRIGGER_NAMES.delete, event: 'DELETE' },
};

/** Where an event's context comes from: a change without context (raw SQL), or the transaction's. */
interface ContextSql {
  /** tenant_id, actor_type, actor_id, actor_label (in `EVENT_COLUMNS` order). */
  who: string;
  /** request_id, request_path. */
  request: string;
  /** The event's `data`, given the JSON object of its own fields. */
  data: (fields: string) => string;
}

function withoutContext(plan: TriggerPlan): ContextSql {
  return {
    who: `NULL, 'system', session_user::text, NULL`,
    request: 'NULL, NULL',
    // Tenant and actor of the session, made once per session (see auditkit_trigger_session).
    data: (fields) => `current_setting(${sqlString(systemSetting(plan.auditSchema))})::jsonb || ${fields}`,
  };
}
const WITH_CONTEXT: ContextSql = {
  who: `ctx ->> 'tenantId', ctx #>> '{actor,type}', ctx #>> '{actor,id}', ctx #>> '{actor,label}'`,
  request: `coalesce(ctx #>> '{correlation,requestId}', ctx #>> '{request,id}'), ctx #>> '{request,path}'`,
  data: (fields) => `ctx || ${fields}`,
};

/**
 * A UUIDv7 from the time `t` (PostgreSQL 15 has no uuidv7()): the first 8 bytes are the 48 bits of
 * milliseconds, version 7 and 12 bits of sub-millisecond time (RFC 9562 method 3, so ids made one
 * after the other stay in order); the last 8 are those of a v4 UUID (variant and 62 random bits).
 * Microseconds come from `extract` (exact), so the id's milliseconds are those of `occurred_at`.
 */
function uuidSql(t: string): string {
  const us = `(extract(epoch FROM ${t}) * 1000000)::bigint`;
  const head = `((${us} / 1000) << 16) | 28672 | ((${us} % 1000) * 4096 / 1000)`;
  // uuid_in takes the hex digits with a hyphen after any group of four.
  return `(lpad(to_hex(${head}), 16, '0') || substr(gen_random_uuid()::text, 20))::uuid`;
}

const AT = `date_trunc('milliseconds', t)`;
const ISO = `to_char(${AT} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The event's own fields (everything but the context's), as a `jsonb_build_object`. */
function fieldsSql(action: string, target: string, changes: string): string {
  return (
    `jsonb_build_object('id', eid, 'occurredAt', ${ISO}, 'category', 'change', 'action', ${sqlString(action)}, ` +
    `'outcome', 'success', 'target', ${target}, 'changes', ${changes})`
  );
}

/** The INSERT of one event, its target id in `tid`. */
function insertSql(
  plan: TriggerPlan,
  action: string,
  type: string,
  target: string,
  changes: string,
  context: ContextSql,
): string {
  return (
    `INSERT INTO ${qualify(plan.auditSchema, 'audit_events')} (${EVENT_COLUMNS})\n` +
    `      VALUES (eid, ${AT}, 'change', ${sqlString(action)}, 'success', ${context.who}, ${type}, tid, ${context.request},\n` +
    `        ${context.data(fieldsSql(action, target, changes))});`
  );
}

/** The INSERT of a row event (`record.*`). */
function rowEventSql(plan: TriggerPlan, operation: Operation, context: ContextSql): string {
  const type = sqlString(plan.table.name);
  // A key column renamed or dropped since the install leaves tid NULL: a target without an id, never
  // `"id": null` (which no event may hold).
  const target =
    plan.primaryKey.length > 0
      ? `CASE WHEN tid IS NULL THEN jsonb_build_object('type', ${type}) ELSE jsonb_build_object('type', ${type}, 'id', tid) END`
      : `jsonb_build_object('type', ${type})`;
  return insertSql(plan, CHANGE_ACTIONS[operation], type, target, "coalesce(ch, '{}'::jsonb)", context);
}

/** The INSERT of one link event (`relation.*`) on the owner of a join-table row image. */
function relationEventSql(plan: TriggerPlan, added: boolean, context: ContextSql): string {
  const relation = plan.relation as Required<NonNullable<TriggerPlan['relation']>>;
  const image = added ? 'n' : 'o';
  const related = `to_jsonb(${keySql(image, plan, relation.relatedColumns as string[])})`;
  const type = sqlString(relation.ownerType);
  const pair = added
    ? `jsonb_build_array(NULL::jsonb, ${related})`
    : `jsonb_build_array(${related}, NULL::jsonb)`;
  return (
    `tid := ${keySql(image, plan, relation.ownerColumns as string[])};\n      ` +
    insertSql(
      plan,
      added ? RELATION_ACTIONS.added : RELATION_ACTIONS.removed,
      type,
      `jsonb_build_object('type', ${type}, 'id', tid)`,
      `jsonb_build_object(${sqlString(relation.name)}, ${pair})`,
      context,
    )
  );
}

/** The statements that write one operation's event(s) for a given context. */
function operationSql(plan: TriggerPlan, operation: Operation, context: ContextSql): string {
  if (!plan.relation) return rowEventSql(plan, operation, context);
  if (operation === 'insert') return relationEventSql(plan, true, context);
  if (operation === 'delete') return relationEventSql(plan, false, context);
  // An update that moves a key is a removal followed by an addition (a second id and time).
  return `${relationEventSql(plan, false, context)}
      t := clock_timestamp();
      eid := ${uuidSql('t')};
      ${relationEventSql(plan, true, context)}`;
}

/**
 * Inside `withoutAuditing` the context says `"capture": "off"`: nothing is recorded, except the deletes
 * of a `forceLogDeletes` table (`forceLog` is the innermost scope, so its context has no such key).
 */
function captureOffSql(plan: TriggerPlan, operation: Operation): string {
  const keep = operation === 'delete' && plan.forceLogDeletes;
  return `IF ctx ? 'capture' THEN
      ${keep ? "ctx := ctx - 'capture';" : 'RETURN NULL;'}
    END IF;`;
}

/**
 * `CREATE OR REPLACE FUNCTION` of one operation's trigger function. Few statements on purpose:
 * PL/pgSQL sets up each statement's expressions again in every transaction, which is most of what a
 * trigger costs on a one-row transaction.
 */
function operationFunctionSql(plan: TriggerPlan, operation: Operation): string {
  const q = (name: string) => qualify(plan.auditSchema, name);
  const label = `${plan.table.schema}.${plan.table.name}`.replace(/[\r\n]/g, ' ');
  const images = [
    ...(operation === 'delete' ? [] : ['  n jsonb := to_jsonb(NEW);']),
    ...(operation === 'insert' ? [] : ['  o jsonb := to_jsonb(OLD);']),
  ];
  let prepare: string;
  if (plan.relation) {
    const relation = plan.relation;
    const moved = [...relation.ownerColumns, ...relation.relatedColumns]
      .map((c) => `n -> ${sqlString(c)} IS DISTINCT FROM o -> ${sqlString(c)}`)
      .join(' OR ');
    // Any other update of a join row changes no link.
    prepare = operation === 'update' ? `IF NOT (${moved}) THEN\n    RETURN NULL;\n  END IF;` : '';
  } else {
    const key =
      plan.primaryKey.length > 0
        ? keySql(operation === 'delete' ? 'o' : 'n', plan, plan.primaryKey)
        : 'NULL::text';
    prepare = changesSql(plan, operation, key);
  }
  const body = `
-- Generated by Auditkit for ${OPERATIONS[operation].event} on ${label}. Re-run "auditkit triggers install" to change it.
DECLARE
  raw text := current_setting('${CONTEXT_SETTING}', true);
  t timestamptz := clock_timestamp();
  eid uuid := ${uuidSql('t')};
${images.join('\n')}
  ch jsonb;
  tid text;
  ctx jsonb;
BEGIN
  -- The first change of a session checks that the audit table exists (a clear error if not).
  IF current_setting(${sqlString(readySetting(plan.auditSchema))}, true) IS DISTINCT FROM 'on' THEN
    PERFORM ${q('auditkit_trigger_session')}();
  END IF;
  ${prepare}
  IF raw IS NULL OR raw = '' THEN
    ${operationSql(plan, operation, withoutContext(plan))}
  ELSE
    -- The context is checked once per transaction; later rows parse the normalised text.
    ctx := (CASE WHEN raw = current_setting('${CONTEXT_SOURCE_SETTING}', true)
        AND current_setting('${EVENT_CONTEXT_SETTING}', true) <> ''
      THEN current_setting('${EVENT_CONTEXT_SETTING}', true) ELSE ${q('auditkit_trigger_context')}(raw) END)::jsonb;
    ${captureOffSql(plan, operation)}
    ${operationSql(plan, operation, WITH_CONTEXT)}
  END IF;
  RETURN NULL;
END
`;
  const tag = dollarTag(body);
  const name = `${plan.functionName}${OPERATIONS[operation].suffix}`;
  return `CREATE OR REPLACE FUNCTION ${q(name)}() RETURNS trigger LANGUAGE plpgsql AS ${tag}${body}${tag}`;
}

/** The three trigger functions of a table (insert, update, delete). */
export function triggerFunctionSql(plan: TriggerPlan): string[] {
  return (Object.keys(OPERATIONS) as Operation[]).map((operation) => operationFunctionSql(plan, operation));
}

/** Every statement that installs (or re-installs) the triggers of one table. */
export function installTableSql(plan: TriggerPlan): string[] {
  const table = qualify(plan.table.schema, plan.table.name);
  const registry = qualify(plan.auditSchema, TRIGGERS_TABLE);
  const columns = JSON.stringify(plan.columns.map((c) => ({ name: c.name, type: c.type })));
  const keyArray = `ARRAY[${plan.primaryKey.map(sqlString).join(', ')}]::text[]`;
  const triggers = (Object.entries(OPERATIONS) as [Operation, (typeof OPERATIONS)[Operation]][]).flatMap(
    ([operation, { suffix, trigger, event }]) => {
      // Byte-identical rows fire nothing (`*<>` compares images, so json and point columns work too).
      const when = operation === 'update' && !plan.recordNoOpUpdates ? ' WHEN (OLD.* *<> NEW.*)' : '';
      const fn = qualify(plan.auditSchema, `${plan.functionName}${suffix}`);
      return [
        `DROP TRIGGER IF EXISTS ${trigger} ON ${table}`,
        `CREATE TRIGGER ${trigger} AFTER ${event} ON ${table} FOR EACH ROW${when} EXECUTE FUNCTION ${fn}()`,
      ];
    },
  );
  return [
    ...triggerFunctionSql(plan),
    ...triggers,
    `INSERT INTO ${registry} (table_schema, table_name, function_name, options, primary_key, columns) ` +
      `VALUES (${sqlString(plan.table.schema)}, ${sqlString(plan.table.name)}, ${sqlString(plan.functionName)}, ` +
      `${sqlString(JSON.stringify(plan.options))}::jsonb, ${keyArray}, ${sqlString(columns)}::jsonb) ` +
      'ON CONFLICT (table_schema, table_name) DO UPDATE SET function_name = EXCLUDED.function_name, ' +
      'options = EXCLUDED.options, primary_key = EXCLUDED.primary_key, columns = EXCLUDED.columns, updated_at = now()',
  ];
}

/**
 * Every statement that removes the triggers of one table. The events they wrote stay. `tableExists`
 * false skips the DROP TRIGGERs (a dropped table took its triggers with it).
 */
export function uninstallTableSql(
  auditSchema: string,
  table: { schema: string; name: string },
  tableExists: boolean,
): string[] {
  const qualified = qualify(table.schema, table.name);
  const base = functionNameFor(table);
  return [
    ...(tableExists
      ? Object.values(OPERATIONS).map((o) => `DROP TRIGGER IF EXISTS ${o.trigger} ON ${qualified}`)
      : []),
    ...Object.values(OPERATIONS).map(
      (o) => `DROP FUNCTION IF EXISTS ${qualify(auditSchema, `${base}${o.suffix}`)}()`,
    ),
    `DELETE FROM ${qualify(auditSchema, TRIGGERS_TABLE)} WHERE table_schema = ${sqlString(table.schema)} AND table_name = ${sqlString(table.name)}`,
  ];
}
