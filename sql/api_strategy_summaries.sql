-- Per published strategy: first/last date and the latest level.
-- File lists ($levels, $prices, ...) and values are bound as parameters by the API.
SELECT strategy_id, min(date) AS first_date, max(date) AS last_date,
       arg_max(level, date) AS latest_level
FROM read_parquet($levels, hive_partitioning = true, hive_types = {'strategy_id': VARCHAR})
GROUP BY strategy_id
ORDER BY strategy_id
