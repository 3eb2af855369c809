-- Shares traded at a price, when the provider reports them.
ALTER TABLE price_points ADD COLUMN volume DOUBLE PRECISION;

-- OHLCV bars over price_points, one row per symbol, interval and bucket (aligned to the epoch).
-- open_* and close_* identify the earliest and latest (ts, id) of the bucket, and max_id the
-- newest price point counted: a price point with a larger id is not counted yet, so it can be
-- added to the bar; any other is handled by recomputing the bar from price_points.
CREATE TABLE bars (
  symbol           TEXT NOT NULL,
  interval_seconds INT NOT NULL,
  bucket_start     TIMESTAMPTZ NOT NULL,
  open             DOUBLE PRECISION NOT NULL,
  high             DOUBLE PRECISION NOT NULL,
  low              DOUBLE PRECISION NOT NULL,
  close            DOUBLE PRECISION NOT NULL,
  price_count      BIGINT NOT NULL,
  volume           DOUBLE PRECISION,
  open_ts          TIMESTAMPTZ NOT NULL,
  open_id          BIGINT NOT NULL,
  close_ts         TIMESTAMPTZ NOT NULL,
  close_id         BIGINT NOT NULL,
  max_id           BIGINT NOT NULL,
  PRIMARY KEY (symbol, interval_seconds, bucket_start)
);
