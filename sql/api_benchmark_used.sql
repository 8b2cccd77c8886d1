-- The benchmark symbol a strategy's published risk metrics were measured against (SPX, or the
-- ETF that served when the plan refused the index).
-- File lists ($risk) and values are bound as parameters by the API.
SELECT any_value(symbol) AS symbol
FROM read_parquet($risk, hive_partitioning = true, union_by_name = true, hive_types = {'strategy_id': VARCHAR})
WHERE strategy_id = $strategy_id AND subject = 'benchmark' AND "window" = 'full'
