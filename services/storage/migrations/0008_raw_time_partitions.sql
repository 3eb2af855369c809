-- Raw provider replies are cut into time partitions by the time they were fetched, so that those
-- past RAW_RETENTION are removed a partition at a time (detached concurrently, then dropped),
-- never row by row. mds-api makes the partitions ahead (services/lifecycle); there is no DEFAULT
-- partition, whose rows would stop the partitions from being made or removed.
--
-- The key is (id, fetched_at): a key of a partitioned table must hold its partition column.
-- The sequence moves to the new table, so that removing the old one keeps it.
--
-- A database that already holds replies keeps them without copying a row: the old table becomes
-- the partition of everything fetched before a cutover and goes whole once that is
-- RAW_RETENTION old. The migration runner prepares it beforehand while writes go on (see
-- services/storage/migrations.h): the CHECK raw_market_data_before_cutover, validated, and the
-- unique index raw_market_data_key on the new key. Without them (an older runner) both are made
-- here, scanning the table under this transaction's lock.
DO $migration$
DECLARE
  cutover TIMESTAMPTZ;
BEGIN
  ALTER TABLE raw_market_data RENAME TO raw_market_data_legacy;
  -- Its key by id stays its own (dropping the index of a large table in here would cost the lock
  -- a truncation of its files at commit); the new key gets its share from the index prepared
  -- beforehand.
  ALTER TABLE raw_market_data_legacy
      RENAME CONSTRAINT raw_market_data_pkey TO raw_market_data_legacy_id_key;
  CREATE TABLE raw_market_data (
      id          BIGINT      NOT NULL DEFAULT nextval('raw_market_data_id_seq'),
      symbol      TEXT        NOT NULL,
      provider    TEXT        NOT NULL,
      response    JSONB       NOT NULL,
      fetched_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT raw_market_data_pkey PRIMARY KEY (id, fetched_at)
  ) PARTITION BY RANGE (fetched_at);
  ALTER SEQUENCE raw_market_data_id_seq OWNED BY raw_market_data.id;
  ALTER TABLE raw_market_data_legacy ALTER COLUMN id DROP DEFAULT;

  IF NOT EXISTS (SELECT 1 FROM raw_market_data_legacy) THEN
    DROP TABLE raw_market_data_legacy;
    RETURN;
  END IF;
  SELECT CAST((regexp_match(pg_get_constraintdef(oid), '''([^'']+)'''))[1] AS timestamptz)
  INTO cutover
  FROM pg_constraint
  WHERE conrelid = 'raw_market_data_legacy'::regclass
    AND conname = 'raw_market_data_before_cutover' AND convalidated;
  IF cutover IS NULL THEN
    SELECT greatest(now(), max(fetched_at)) + interval '1 microsecond' INTO cutover
    FROM raw_market_data_legacy;
    EXECUTE format('ALTER TABLE raw_market_data_legacy ADD CONSTRAINT'
                   ' raw_market_data_before_cutover CHECK (fetched_at < %L)', cutover);
  END IF;
  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('raw_market_data_key')
                                      AND indisvalid) THEN
    ALTER TABLE raw_market_data_legacy
        ADD CONSTRAINT raw_market_data_legacy_key UNIQUE USING INDEX raw_market_data_key;
  END IF;
  EXECUTE format('ALTER TABLE raw_market_data ATTACH PARTITION raw_market_data_legacy'
                 ' FOR VALUES FROM (MINVALUE) TO (%L)', cutover);
  -- The partition's bound says the same from now on.
  ALTER TABLE raw_market_data_legacy DROP CONSTRAINT raw_market_data_before_cutover;
END
$migration$;
