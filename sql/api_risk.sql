-- Published risk metrics of one strategy, strategy rows first.
-- File lists ($levels, $prices, ...) and values are bound as parameters by the API.
SELECT * EXCLUDE (strategy_id)
FROM read_parquet($risk, hive_partitioning = true, hive_types = {'strategy_id': VARCHAR})
WHERE strategy_id = $strategy_id
ORDER BY subject DESC, "window"
