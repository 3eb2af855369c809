-- The calls each provider's daily quota has counted, by UTC day: one count shared by every
-- replica, kept across restarts. A few rows a day; nothing prunes them.
CREATE TABLE provider_daily_calls (
    provider TEXT   NOT NULL,
    day      DATE   NOT NULL,
    calls    BIGINT NOT NULL,
    PRIMARY KEY (provider, day)
);
