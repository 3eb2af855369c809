-- The price each polling job's tick holds for each symbol, written in the same statement as the
-- price itself (or, for a price another request stored, as soon as the tick is answered). The
-- primary key makes a second price for one (job, tick, symbol) impossible: a replica that
-- completes an interrupted tick fetches only the symbols still missing, and a replica that wakes
-- up after its lease ran out has its late writes refused. Rows live only while their tick runs:
-- completing a run deletes them, and from then on the job's next_run_at no longer names the tick,
-- which refuses any late write to it all the same.
CREATE TABLE polling_tick_prices (
    job_id         TEXT        NOT NULL,
    tick_at        TIMESTAMPTZ NOT NULL,
    symbol         TEXT        NOT NULL,
    price_point_id BIGINT,     -- NULL: answered but not stored (outside the acceptance window)
    recorded_by    TEXT        NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, tick_at, symbol)
);
