-- An outbox row names its price by (symbol, price_ts, price_point_id), the order price_points is
-- searched in, so the relay finds each price through that key instead of by id alone (which a
-- table partitioned by time could only answer by asking every partition). enqueued_at is when
-- the price was committed, for the backlog's age, read without a join.
ALTER TABLE price_event_outbox
    ADD COLUMN symbol TEXT,
    ADD COLUMN price_ts TIMESTAMPTZ,
    ADD COLUMN enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now();
-- Rows in flight at the upgrade (only those not yet acknowledged).
UPDATE price_event_outbox o
SET symbol = p.symbol, price_ts = p.ts, enqueued_at = p.created_at
FROM price_points p
WHERE p.id = o.price_point_id;
-- A row whose price is gone could never be published: it goes.
DELETE FROM price_event_outbox WHERE symbol IS NULL;
ALTER TABLE price_event_outbox ALTER COLUMN symbol SET NOT NULL,
                               ALTER COLUMN price_ts SET NOT NULL;
