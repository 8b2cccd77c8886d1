-- The latest date with a published index level, any strategy.
-- File lists ($levels, $prices, ...) and values are bound as parameters by the API.
SELECT max(date) AS latest_date
FROM read_parquet($levels, hive_partitioning = true, hive_types = {'strategy_id': VARCHAR})
