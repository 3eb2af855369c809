-- The request a price was fetched for (the gateway's request id and the W3C traceparent), kept
-- until its event is published, which may be later and by another replica's outbox relay; the
-- event carries them as Kafka headers. NULL for prices of polling runs.
ALTER TABLE price_event_outbox ADD COLUMN request_id TEXT, ADD COLUMN traceparent TEXT;
