-- The raw replies of one write are stored in one row, compressed together (`replies`, see
-- services/storage/raw_replies.h), instead of a JSONB row each: a reply is smaller than the 2 KB
-- below which PostgreSQL compresses nothing, and the replies of one write are alike. Rows stored
-- before keep their `response`, `symbol` and `provider`; new rows leave them NULL.
-- Catalog changes only: no row is read or rewritten.
ALTER TABLE raw_market_data ADD COLUMN replies BYTEA;
-- Already compressed: PostgreSQL does not try again, and keeps a large value out of line.
ALTER TABLE raw_market_data ALTER COLUMN replies SET STORAGE EXTERNAL;
ALTER TABLE raw_market_data ALTER COLUMN response DROP NOT NULL,
                            ALTER COLUMN symbol DROP NOT NULL,
                            ALTER COLUMN provider DROP NOT NULL;
