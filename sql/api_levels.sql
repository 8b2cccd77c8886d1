-- Index levels of one strategy between $start and $end (inclusive; NULL = open).
-- File lists ($levels, $prices, ...) and values are bound as parameters by the API.
SELECT date, level, daily_return, divisor, constituents, is_rebalance
FROM read_parquet($levels, hive_partitioning = true, hive_types = {'strategy_id': VARCHAR})
WHERE strategy_id = $strategy_id AND ($start IS NULL OR date >= $start::DATE) AND ($end IS NULL OR date <= $end::DATE)
ORDER BY date
