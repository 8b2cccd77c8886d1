-- Orders of the latest rebalance on or before $on (latest if NULL).
-- File lists ($levels, $prices, ...) and values are bound as parameters by the API.
WITH orders AS (
    SELECT rebalance_date, symbol, side, quantity, price, notional, weight_before, weight_after
    FROM read_parquet($orders, hive_partitioning = true, hive_types = {'strategy_id': VARCHAR})
    WHERE strategy_id = $strategy_id
),
served AS (
    SELECT max(rebalance_date) AS rebalance_date
    FROM orders WHERE $on IS NULL OR rebalance_date <= $on::DATE
)
SELECT
    o.*,
    -- Constituent change: a name entering (no weight before), leaving (none after), or staying.
    CASE
        WHEN coalesce(o.weight_before, 0) = 0 AND coalesce(o.weight_after, 0) > 0 THEN 'add'
        WHEN coalesce(o.weight_before, 0) > 0 AND coalesce(o.weight_after, 0) = 0 THEN 'drop'
        ELSE 'reweight'
    END AS change
FROM orders AS o JOIN served USING (rebalance_date)
ORDER BY o.notional DESC, o.symbol
