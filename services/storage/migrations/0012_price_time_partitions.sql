-- Prices and their averages are cut into time partitions by the price's own time (ts), so that
-- those past PRICE_RETENTION are removed a partition at a time, never row by row; mds-api makes
-- the partitions (services/lifecycle), back to the oldest time a quote is still stored at
-- (LATE_PRICE_WINDOW) and ahead of now. No DEFAULT partition.
--
-- One key each, which serves every read, instead of a key and an index:
--   price_points     (symbol, ts, id): history and neighbours walk it, the outbox relay looks a
--                    price up by it. The key by id alone and the (symbol, ts, id) index go (from
--                    an old table attached whole: its index by (symbol, ts) is dropped
--                    concurrently beforehand, its key by id goes with it); ids stay unique by
--                    construction (one sequence).
--   moving_averages  (symbol, window_size, ts, price_point_id), as before.
--
-- A database that already holds rows keeps them without copying one: each old table becomes the
-- partition of everything before a cutover and goes whole once that is PRICE_RETENTION old. The
-- migration runner prepares it beforehand while writes go on (services/storage/migrations.h):
-- a CHECK <table>_before_cutover, validated, and for price_points the unique index
-- price_points_key on the new key, after which the index it replaces is dropped concurrently.
-- Here only renames and an attach that neither scans nor builds: milliseconds. Without the preparation (an older runner) both are made
-- here, scanning under this transaction's lock.
DO $migration$
DECLARE
  cutover TIMESTAMPTZ;
BEGIN
  -- Averages first: the prices, which every request writes, are locked last and so for the
  -- shortest time.
  -- moving_averages
  LOCK TABLE moving_averages IN ACCESS EXCLUSIVE MODE;
  ALTER TABLE moving_averages RENAME TO moving_averages_legacy;
  ALTER TABLE moving_averages_legacy
      RENAME CONSTRAINT moving_averages_pkey TO moving_averages_legacy_pkey;
  CREATE TABLE moving_averages (LIKE moving_averages_legacy INCLUDING DEFAULTS)
      PARTITION BY RANGE (ts);
  ALTER TABLE moving_averages
      ADD CONSTRAINT moving_averages_window_size_check CHECK (window_size > 0),
      ADD CONSTRAINT moving_averages_pkey PRIMARY KEY (symbol, window_size, ts, price_point_id);
  IF NOT EXISTS (SELECT 1 FROM moving_averages_legacy) THEN
    DROP TABLE moving_averages_legacy;
  ELSE
    SELECT CAST((regexp_match(pg_get_constraintdef(oid), '''([^'']+)'''))[1] AS timestamptz)
    INTO cutover
    FROM pg_constraint
    WHERE conrelid = 'moving_averages_legacy'::regclass
      AND conname = 'moving_averages_before_cutover' AND convalidated;
    IF cutover IS NULL THEN
      SELECT greatest(now() + interval '25 hours', max(ts) + interval '1 microsecond')
      INTO cutover FROM moving_averages_legacy;
      EXECUTE format('ALTER TABLE moving_averages_legacy ADD CONSTRAINT'
                     ' moving_averages_before_cutover CHECK (ts < %L)', cutover);
    END IF;
    EXECUTE format('ALTER TABLE moving_averages ATTACH PARTITION moving_averages_legacy'
                   ' FOR VALUES FROM (MINVALUE) TO (%L)', cutover);
    ALTER TABLE moving_averages_legacy DROP CONSTRAINT moving_averages_before_cutover;
  END IF;
  cutover := NULL;
  -- price_points
  LOCK TABLE price_points IN ACCESS EXCLUSIVE MODE;
  ALTER TABLE price_points RENAME TO price_points_legacy;
  -- Its key by id stays its own (dropping an index of a large table in here would cost the
  -- lock a truncation of its files at commit): it goes with the table.
  ALTER TABLE price_points_legacy RENAME CONSTRAINT price_points_pkey TO price_points_legacy_id_key;
  CREATE TABLE price_points (LIKE price_points_legacy INCLUDING DEFAULTS)
      PARTITION BY RANGE (ts);
  ALTER TABLE price_points ADD CONSTRAINT price_points_pkey PRIMARY KEY (symbol, ts, id);
  ALTER SEQUENCE price_points_id_seq OWNED BY price_points.id;
  ALTER TABLE price_points_legacy ALTER COLUMN id DROP DEFAULT;
  IF NOT EXISTS (SELECT 1 FROM price_points_legacy) THEN
    DROP TABLE price_points_legacy;
  ELSE
    SELECT CAST((regexp_match(pg_get_constraintdef(oid), '''([^'']+)'''))[1] AS timestamptz)
    INTO cutover
    FROM pg_constraint
    WHERE conrelid = 'price_points_legacy'::regclass
      AND conname = 'price_points_before_cutover' AND convalidated;
    IF cutover IS NULL THEN
      -- Quotes may be stamped up to a day ahead.
      SELECT greatest(now() + interval '25 hours', max(ts) + interval '1 microsecond')
      INTO cutover FROM price_points_legacy;
      EXECUTE format('ALTER TABLE price_points_legacy ADD CONSTRAINT price_points_before_cutover'
                     ' CHECK (ts < %L)', cutover);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('price_points_key')
                                        AND indisvalid) THEN
      ALTER TABLE price_points_legacy
          ADD CONSTRAINT price_points_legacy_key UNIQUE USING INDEX price_points_key;
    END IF;
    EXECUTE format('ALTER TABLE price_points ATTACH PARTITION price_points_legacy'
                   ' FOR VALUES FROM (MINVALUE) TO (%L)', cutover);
    ALTER TABLE price_points_legacy DROP CONSTRAINT price_points_before_cutover;
  END IF;

END
$migration$;
