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
export const TRIGGER_NAMES = { insertDelete: 'auditkit_changes', update: 'auditkit_changes_update' } as const;

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
  const ready = `CREATE OR REPLACE FUNCTION ${q('auditkit_trigger_ready')}() RETURNS void LANGUAGE plpgsql AS $ak$
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

/** The recording mode of the column named by `e.key` (see `ColumnMode`). */
function modeSql(plan: TriggerPlan): string {
  const known = `${sqlString(JSON.stringify(plan.modes))}::jsonb ->> e.key`;
  if (plan.includeOnly) return `coalesce(${known}, 'x')`;
  // A column added after the install: recorded, masked when its name looks like a secret.
  return `coalesce(${known}, CASE WHEN ${normalisedKey('e.key')} ~ ${sqlString(plan.secretPattern)} THEN 'r' ELSE '' END)`;
}

/**
 * `{ column: [before, after] }` of one row change, as a subquery producing `changes` (NULL when no
 * recorded column changed). Kept to a few expression nodes: PostgreSQL compiles it on every row.
 */
function changesSql(plan: TriggerPlan, operation: 'insert' | 'update' | 'delete'): string {
  const mode = modeSql(plan);
  const bothMasked = `'["[REDACTED]","[REDACTED]"]'::jsonb`;
  const masked = (value: string) =>
    `CASE WHEN ${value} = 'null'::jsonb THEN 'null'::jsonb ELSE ${REDACTED_JSON} END`;
  // Excluded columns: known ones are 'x'; with an include list, unknown ones are too.
  const filter = plan.includeOnly
    ? `${sqlString(JSON.stringify(plan.modes))}::jsonb ->> e.key <> 'x'`
    : `${sqlString(JSON.stringify(plan.modes))}::jsonb ->> e.key IS DISTINCT FROM 'x'`;
  let element: string;
  let where = filter;
  let image = 'n';
  if (operation === 'insert') {
    element = `CASE ${mode} WHEN '' THEN jsonb_build_array(NULL::jsonb, e.value) WHEN 'r' THEN jsonb_build_array(NULL::jsonb, ${masked('e.value')}) ELSE ${bothMasked} END`;
  } else if (operation === 'delete') {
    image = 'o';
    element = `CASE ${mode} WHEN '' THEN jsonb_build_array(e.value, NULL::jsonb) WHEN 'r' THEN jsonb_build_array(${masked('e.value')}, NULL::jsonb) ELSE ${bothMasked} END`;
  } else {
    where += ' AND e.value IS DISTINCT FROM o -> e.key';
    element = `CASE ${mode} WHEN '' THEN jsonb_build_array(coalesce(o -> e.key, 'null'::jsonb), e.value) WHEN 'r' THEN jsonb_build_array(${masked("coalesce(o -> e.key, 'null'::jsonb)")}, ${masked('e.value')}) ELSE ${bothMasked} END`;
  }
  return `(SELECT jsonb_object_agg(e.key, ${element}) AS changes FROM jsonb_each(${image}) e WHERE ${where})`;
}

/**
 * The changes as stored: passed through the redactor's cleaning (`auditkit_clean_changes`) when a
 * value might need it: the changes are large (a value may be over 8192 characters), hold `eyJ` (a
 * JSON Web Token), or hold a secret-looking name other than the masked columns' (a key inside a JSON
 * value). One cheap test of the whole object, so ordinary rows never call a function.
 */
function cleanedChangesSql(plan: TriggerPlan, changes: string): string {
  const masked = Object.entries(plan.modes)
    .filter(([, mode]) => mode === 'r' || mode === 'c')
    .map(([column]) => sqlString(column));
  const text =
    masked.length > 0 ? `(${changes} - ARRAY[${masked.join(', ')}]::text[])::text` : `${changes}::text`;
  const secret = sqlString(plan.secretPattern);
  // Only values that can hold keys (json, jsonb, arrays, composites) can hide a secret under a key:
  // the name test (the costly part) is left out for tables without such columns.
  const keys = plan.columns.some(holdsKeys) ? ` OR ${normalisedKey(text)} ~ ${secret}` : '';
  return (
    `CASE WHEN pg_column_size(${changes}) > 8192 OR strpos(${changes}::text, 'eyJ') > 0${keys} ` +
    `THEN ${qualify(plan.auditSchema, 'auditkit_clean_changes')}(${changes}, ${secret}) ELSE ${changes} END`
  );
}

/** The columns of `audit_events` a trigger fills (the rest keep their defaults or stay NULL). */
const EVENT_COLUMNS =
  'id, occurred_at, category, action, outcome, tenant_id, actor_type, actor_id, actor_label, ' +
  'target_type, target_id, request_id, request_path, data';

/** The flat columns copied from the context, in `EVENT_COLUMNS` order after `outcome`. */
const CONTEXT_COLUMNS = `ctx ->> 'tenantId', ctx #>> '{actor,type}', ctx #>> '{actor,id}', ctx #>> '{actor,label}'`;
const REQUEST_COLUMNS = `coalesce(ctx #>> '{correlation,requestId}', ctx #>> '{request,id}'), ctx #>> '{request,path}'`;

/** Sets `t`, `at`, `iso` and `eid`: the time of an event and its UUIDv7 (PostgreSQL 15 has no uuidv7()). */
const STAMP = `t := clock_timestamp();
    at := date_trunc('milliseconds', t);
    iso := to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    h := lpad(to_hex(round(date_part('epoch', at) * 1000)::bigint), 12, '0');
    -- 48 bits of milliseconds, version 7, 12 bits of sub-millisecond time (RFC 9562 method 3, so ids
    -- made one after the other stay in order), then the variant and 62 random bits of a v4 UUID.
    eid := (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' ||
      lpad(to_hex((date_part('microseconds', t)::bigint % 1000) * 4096 / 1000), 3, '0') ||
      substr(gen_random_uuid()::text, 19))::uuid;`;

function dataSql(action: string, target: string, changes: string): string {
  return (
    `ctx || jsonb_build_object('id', eid, 'occurredAt', iso, 'category', 'change', 'action', ${sqlString(action)}, ` +
    `'outcome', 'success', 'target', ${target}, 'changes', ${changes})`
  );
}

/** The INSERT of a row event (`record.*`), with its changes computed in the same statement. */
function rowEventSql(plan: TriggerPlan, operation: 'insert' | 'update' | 'delete'): string {
  const events = qualify(plan.auditSchema, 'audit_events');
  const action = CHANGE_ACTIONS[operation];
  const type = sqlString(plan.table.name);
  const target =
    plan.primaryKey.length > 0
      ? `jsonb_build_object('type', ${type}, 'id', tid)`
      : `jsonb_build_object('type', ${type})`;
  const skipNoOp = operation === 'update' && !plan.recordNoOpUpdates;
  return (
    `INSERT INTO ${events} (${EVENT_COLUMNS})\n` +
    `    SELECT eid, at, 'change', ${sqlString(action)}, 'success', ${CONTEXT_COLUMNS}, ${type}, tid, ${REQUEST_COLUMNS},\n` +
    `      ${dataSql(action, target, cleanedChangesSql(plan, "coalesce(c.changes, '{}'::jsonb)"))}\n` +
    `    FROM ${changesSql(plan, operation)} c${skipNoOp ? '\n    WHERE c.changes IS NOT NULL' : ''};`
  );
}

/** The INSERT of one link event (`relation.*`) on the owner of a join-table row image. */
function relationEventSql(plan: TriggerPlan, added: boolean): string {
  const relation = plan.relation;
  if (!relation) return '';
  const events = qualify(plan.auditSchema, 'audit_events');
  const action = added ? RELATION_ACTIONS.added : RELATION_ACTIONS.removed;
  const image = added ? 'n' : 'o';
  const owner = keySql(image, plan, relation.ownerColumns as string[]);
  const related = keySql(image, plan, relation.relatedColumns as string[]);
  const type = sqlString(relation.ownerType);
  const pair = added
    ? `jsonb_build_array(NULL::jsonb, to_jsonb(${related}))`
    : `jsonb_build_array(to_jsonb(${related}), NULL::jsonb)`;
  return (
    `${STAMP}\n    tid := ${owner};\n` +
    `    INSERT INTO ${events} (${EVENT_COLUMNS})\n` +
    `    VALUES (eid, at, 'change', ${sqlString(action)}, 'success', ${CONTEXT_COLUMNS}, ${type}, tid, ${REQUEST_COLUMNS},\n` +
    `      ${dataSql(action, `jsonb_build_object('type', ${type}, 'id', tid)`, `jsonb_build_object(${sqlString(relation.name)}, ${pair})`)});`
  );
}

/** The body of the trigger function's IF branches for a join table: links added and removed. */
function relationBody(plan: TriggerPlan): string {
  const relation = plan.relation;
  if (!relation) return '';
  const moved = [...relation.ownerColumns, ...relation.relatedColumns]
    .map((c) => `n -> ${sqlString(c)} IS DISTINCT FROM o -> ${sqlString(c)}`)
    .join(' OR ');
  return `  IF TG_OP = 'INSERT' THEN
    n := to_jsonb(NEW);
    ${relationEventSql(plan, true)}
  ELSIF TG_OP = 'DELETE' THEN
    o := to_jsonb(OLD);
    ${relationEventSql(plan, false)}
  ELSE
    n := to_jsonb(NEW);
    o := to_jsonb(OLD);
    -- An update that moves a key is a removal followed by an addition; any other update changes no link.
    IF ${moved} THEN
    ${relationEventSql(plan, false)}
    ${relationEventSql(plan, true)}
    END IF;
  END IF;`;
}

/** The body for an ordinary table: one `record.*` event per row. */
function rowBody(plan: TriggerPlan): string {
  const key = (image: string) => (plan.primaryKey.length > 0 ? keySql(image, plan, plan.primaryKey) : 'NULL');
  return `  IF TG_OP = 'INSERT' THEN
    n := to_jsonb(NEW);
    ${STAMP}
    tid := ${key('n')};
    ${rowEventSql(plan, 'insert')}
  ELSIF TG_OP = 'UPDATE' THEN
    n := to_jsonb(NEW);
    o := to_jsonb(OLD);
    ${STAMP}
    tid := ${key('n')};
    ${rowEventSql(plan, 'update')}
  ELSE
    o := to_jsonb(OLD);
    ${STAMP}
    tid := ${key('o')};
    ${rowEventSql(plan, 'delete')}
  END IF;`;
}

/** `CREATE OR REPLACE FUNCTION` of a table's trigger function. */
export function triggerFunctionSql(plan: TriggerPlan): string {
  const auditSchema = plan.auditSchema;
  const q = (name: string) => qualify(auditSchema, name);
  const label = `${plan.table.schema}.${plan.table.name}`;
  const body = `
-- Generated by Auditkit for ${label.replace(/[\r\n]/g, ' ')}. Re-run "auditkit triggers install" to change it.
DECLARE
  raw text := current_setting('${CONTEXT_SETTING}', true);
  ev text;
  ctx jsonb;
  n jsonb;
  o jsonb;
  t timestamptz;
  at timestamptz;
  iso text;
  h text;
  eid uuid;
  tid text;
BEGIN
  IF current_setting(${sqlString(readySetting(auditSchema))}, true) IS DISTINCT FROM 'on' THEN
    PERFORM ${q('auditkit_trigger_ready')}();
  END IF;
  IF raw IS NULL OR raw = '' THEN
    -- A change made without a context (raw SQL, a migration, a psql session).
    ctx := jsonb_build_object('tenantId', NULL, 'actor', jsonb_strip_nulls(jsonb_build_object('type', 'system',
      'id', session_user::text, 'userAgent', nullif(current_setting('application_name', true), ''),
      'ip', host(inet_client_addr()))));
  ELSE
    ev := current_setting('${EVENT_CONTEXT_SETTING}', true);
    IF ev IS NULL OR ev = '' OR raw IS DISTINCT FROM current_setting('${CONTEXT_SOURCE_SETTING}', true) THEN
      ev := ${q('auditkit_trigger_context')}(raw);
    END IF;
    ctx := ev::jsonb;
  END IF;
${plan.relation ? relationBody(plan) : rowBody(plan)}
  RETURN NULL;
END
`;
  const tag = dollarTag(body);
  return `CREATE OR REPLACE FUNCTION ${q(plan.functionName)}() RETURNS trigger LANGUAGE plpgsql AS ${tag}${body}${tag}`;
}

/** Every statement that installs (or re-installs) the trigger of one table. */
export function installTableSql(plan: TriggerPlan): string[] {
  const table = qualify(plan.table.schema, plan.table.name);
  const fn = qualify(plan.auditSchema, plan.functionName);
  const registry = qualify(plan.auditSchema, TRIGGERS_TABLE);
  // Byte-identical rows fire nothing (`*<>` compares images, so json and point columns work too).
  const when = plan.recordNoOpUpdates ? '' : ' WHEN (OLD.* *<> NEW.*)';
  const columns = JSON.stringify(plan.columns.map((c) => ({ name: c.name, type: c.type })));
  const keyArray = `ARRAY[${plan.primaryKey.map(sqlString).join(', ')}]::text[]`;
  return [
    triggerFunctionSql(plan),
    `DROP TRIGGER IF EXISTS ${TRIGGER_NAMES.insertDelete} ON ${table}`,
    `CREATE TRIGGER ${TRIGGER_NAMES.insertDelete} AFTER INSERT OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
    `DROP TRIGGER IF EXISTS ${TRIGGER_NAMES.update} ON ${table}`,
    `CREATE TRIGGER ${TRIGGER_NAMES.update} AFTER UPDATE ON ${table} FOR EACH ROW${when} EXECUTE FUNCTION ${fn}()`,
    `INSERT INTO ${registry} (table_schema, table_name, function_name, options, primary_key, columns) ` +
      `VALUES (${sqlString(plan.table.schema)}, ${sqlString(plan.table.name)}, ${sqlString(plan.functionName)}, ` +
      `${sqlString(JSON.stringify(plan.options))}::jsonb, ${keyArray}, ${sqlString(columns)}::jsonb) ` +
      'ON CONFLICT (table_schema, table_name) DO UPDATE SET function_name = EXCLUDED.function_name, ' +
      'options = EXCLUDED.options, primary_key = EXCLUDED.primary_key, columns = EXCLUDED.columns, updated_at = now()',
  ];
}

/**
 * Every statement that removes the trigger of one table. The events it wrote stay. `tableExists`
 * false skips the DROP TRIGGERs (a dropped table took its triggers with it).
 */
export function uninstallTableSql(
  auditSchema: string,
  table: { schema: string; name: string },
  tableExists: boolean,
): string[] {
  const qualified = qualify(table.schema, table.name);
  return [
    ...(tableExists
      ? [
          `DROP TRIGGER IF EXISTS ${TRIGGER_NAMES.insertDelete} ON ${qualified}`,
          `DROP TRIGGER IF EXISTS ${TRIGGER_NAMES.update} ON ${qualified}`,
        ]
      : []),
    `DROP FUNCTION IF EXISTS ${qualify(auditSchema, functionNameFor(table))}()`,
    `DELETE FROM ${qualify(auditSchema, TRIGGERS_TABLE)} WHERE table_schema = ${sqlString(table.schema)} AND table_name = ${sqlString(table.name)}`,
  ];
}
