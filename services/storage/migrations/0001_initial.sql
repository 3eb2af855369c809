-- Raw provider replies, kept for audit and reprocessing (credentials removed before storing).
CREATE TABLE raw_market_data (
    id          BIGSERIAL PRIMARY KEY,
    symbol      TEXT        NOT NULL,
    provider    TEXT        NOT NULL,
    response    JSONB       NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX raw_market_data_symbol_fetched_idx ON raw_market_data (symbol, fetched_at DESC);

-- One row per price; history queries walk (symbol, ts) newest first.
CREATE TABLE price_points (
    id               BIGSERIAL PRIMARY KEY,
    symbol           TEXT             NOT NULL,
    price            DOUBLE PRECISION NOT NULL,
    ts               TIMESTAMPTZ      NOT NULL,
    provider         TEXT             NOT NULL,
    raw_response_id  BIGINT REFERENCES raw_market_data (id),
    created_at       TIMESTAMPTZ      NOT NULL DEFAULT now()
);
CREATE INDEX price_points_symbol_ts_idx ON price_points (symbol, ts DESC, id DESC);

-- Prices committed but not yet acknowledged by Kafka. The row is written in the same
-- transaction as the price and deleted once the broker acknowledged the event; a relay
-- republishes rows whose available_at has passed (at-least-once delivery).
CREATE TABLE price_event_outbox (
    price_point_id  BIGINT PRIMARY KEY REFERENCES price_points (id) ON DELETE CASCADE,
    available_at    TIMESTAMPTZ NOT NULL DEFAULT now() + interval '5 seconds',
    attempts        INTEGER     NOT NULL DEFAULT 0
);
CREATE INDEX price_event_outbox_available_idx ON price_event_outbox (available_at);

-- Averages written by the consumer; the unique key makes reprocessing idempotent.
CREATE TABLE moving_averages (
    id              BIGSERIAL PRIMARY KEY,
    symbol          TEXT             NOT NULL,
    window_size     INTEGER          NOT NULL CHECK (window_size > 0),
    value           DOUBLE PRECISION NOT NULL,
    ts              TIMESTAMPTZ      NOT NULL,
    price_point_id  BIGINT           NOT NULL,
    created_at      TIMESTAMPTZ      NOT NULL DEFAULT now(),
    CONSTRAINT moving_averages_source_key UNIQUE (symbol, window_size, price_point_id)
);
CREATE INDEX moving_averages_symbol_window_ts_idx
    ON moving_averages (symbol, window_size, ts DESC, price_point_id DESC);

-- Polling jobs, shared by every mds-api replica through leases.
CREATE TABLE polling_jobs (
    job_id            TEXT PRIMARY KEY,
    symbols           TEXT[]      NOT NULL,
    interval_seconds  INTEGER     NOT NULL CHECK (interval_seconds > 0),
    provider          TEXT        NOT NULL,
    status            TEXT        NOT NULL
                      CHECK (status IN ('accepted', 'running', 'stopped', 'failed')),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    next_run_at       TIMESTAMPTZ NOT NULL,
    last_run_at       TIMESTAMPTZ,
    lease_owner       TEXT,
    lease_expires_at  TIMESTAMPTZ,
    run_count         INTEGER     NOT NULL DEFAULT 0,
    error_count       INTEGER     NOT NULL DEFAULT 0,
    last_error        TEXT
);
CREATE INDEX polling_jobs_due_idx ON polling_jobs (next_run_at)
    WHERE status IN ('accepted', 'running');
CREATE INDEX polling_jobs_status_created_idx ON polling_jobs (status, created_at DESC, job_id);
