-- Bars are cut into time partitions by their bucket (a week of PARTITION_INTERVALs each), and
-- each of those by interval, so that old one-minute and five-minute bars are removed whole
-- (BAR_RETENTION_1M, BAR_RETENTION_5M) while the coarser bars of the same weeks stay: bars are
-- the long-term store. mds-api makes the partitions (services/lifecycle). No DEFAULT partition.
-- The key is unchanged: it holds both partition columns.
--
-- A database that already holds bars keeps them without copying a row: the old table becomes
-- the partition of every bucket before a cutover, prepared beforehand by the migration runner
-- (the validated CHECK bars_before_cutover; see services/storage/migrations.h). It holds every
-- interval, so it is kept whole.
DO $migration$
DECLARE
  cutover TIMESTAMPTZ;
BEGIN
  LOCK TABLE bars IN ACCESS EXCLUSIVE MODE;
  ALTER TABLE bars RENAME TO bars_legacy;
  ALTER TABLE bars_legacy RENAME CONSTRAINT bars_pkey TO bars_legacy_pkey;
  CREATE TABLE bars (LIKE bars_legacy INCLUDING DEFAULTS) PARTITION BY RANGE (bucket_start);
  ALTER TABLE bars ADD CONSTRAINT bars_pkey PRIMARY KEY (symbol, interval_seconds, bucket_start);
  IF NOT EXISTS (SELECT 1 FROM bars_legacy) THEN
    DROP TABLE bars_legacy;
    RETURN;
  END IF;
  SELECT CAST((regexp_match(pg_get_constraintdef(oid), '''([^'']+)'''))[1] AS timestamptz)
  INTO cutover
  FROM pg_constraint
  WHERE conrelid = 'bars_legacy'::regclass AND conname = 'bars_before_cutover' AND convalidated;
  IF cutover IS NULL THEN
    SELECT greatest(now() + interval '25 hours', max(bucket_start) + interval '1 microsecond')
    INTO cutover FROM bars_legacy;
    EXECUTE format('ALTER TABLE bars_legacy ADD CONSTRAINT bars_before_cutover'
                   ' CHECK (bucket_start < %L)', cutover);
  END IF;
  EXECUTE format('ALTER TABLE bars ATTACH PARTITION bars_legacy'
                 ' FOR VALUES FROM (MINVALUE) TO (%L)', cutover);
  ALTER TABLE bars_legacy DROP CONSTRAINT bars_before_cutover;
END
$migration$;
