-- A new outbox row becomes due for the relay only after the price's first publication has
-- settled: the producer gives a message up after its message timeout (20 s, kafka_publisher.h),
-- so after 25 s the first attempt was either acknowledged (and the row is about to be deleted) or
-- failed. With 5 s, a broker failover that held deliveries back for longer than that (a
-- partition's leader lost, elected again within the broker session timeout) had the relay publish
-- the price a second time while the first attempt was still going to succeed: two records of one
-- price on the topic. A process that died before publishing costs 25 s of delay instead of 5.
ALTER TABLE price_event_outbox ALTER COLUMN available_at SET DEFAULT now() + interval '25 seconds';
