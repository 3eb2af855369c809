-- Averages are only ever found by (symbol, window_size, ...); the surrogate id was never read but
-- cost a sequence step and a third index entry for every average written. The unique key
-- becomes the primary key.
ALTER TABLE moving_averages DROP CONSTRAINT moving_averages_pkey;
ALTER TABLE moving_averages DROP COLUMN id;
ALTER TABLE moving_averages DROP CONSTRAINT moving_averages_source_key;
ALTER TABLE moving_averages ADD PRIMARY KEY (symbol, window_size, price_point_id);
