-- No query of the service reads raw_market_data by symbol: a raw reply is found through its price
-- point (price_points, indexed by symbol and time, holds raw_response_id). The index cost an entry
-- and its WAL for every price stored.
DROP INDEX IF EXISTS raw_market_data_symbol_fetched_idx;
