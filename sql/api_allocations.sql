-- Weights at the latest allocation date on or before $on (latest if NULL).
-- File lists ($levels, $prices, ...) and values are bound as parameters by the API.
WITH allocations AS (
    SELECT date, symbol, weight, index_shares, close
    FROM read_parquet($allocations, hive_partitioning = true, hive_types = {'strategy_id': VARCHAR})
    WHERE strategy_id = $strategy_id
),
served AS (
    SELECT max(date) AS date FROM allocations WHERE $on IS NULL OR date <= $on::DATE
)
SELECT a.date, a.symbol, a.weight, a.index_shares, a.close
FROM allocations AS a JOIN served USING (date)
ORDER BY a.weight DESC, a.symbol
