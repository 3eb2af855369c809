-- API keys, checked when REQUIRE_API_KEYS is on. Only the SHA-256 of a key is stored: the key
-- itself is shown once, when it is made. A revoked key keeps its row (and its jobs their owner).
CREATE TABLE api_keys (
  id                  BIGSERIAL PRIMARY KEY,
  name                TEXT NOT NULL,
  key_hash            TEXT NOT NULL UNIQUE,  -- lowercase hex SHA-256 of the key
  scopes              TEXT[] NOT NULL,       -- read, write, admin
  -- Quotas of this key; NULL: the process's configured default.
  requests_per_minute INT,
  max_jobs            INT,
  max_symbols         INT,
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  revoked_at          TIMESTAMPTZ
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

-- The key that created a job; NULL for jobs made while keys were not required.
ALTER TABLE polling_jobs ADD COLUMN owner_key_id BIGINT;
CREATE INDEX polling_jobs_owner ON polling_jobs (owner_key_id, created_at DESC)
  WHERE owner_key_id IS NOT NULL;
