-- Published risk metrics of one strategy: strategy rows first, then by window (full, each
-- calendar year in order, trailing windows shortest first). Every metric column is served.
-- union_by_name: a partition written before a metric column existed reads it as NULL.
-- File lists ($levels, $prices, ...) and values are bound as parameters by the API.
SELECT * EXCLUDE (strategy_id)
FROM read_parquet($risk, hive_partitioning = true, hive_types = {'strategy_id': VARCHAR},
                  union_by_name = true)
WHERE strategy_id = $strategy_id
ORDER BY
    subject DESC,
    CASE WHEN "window" = 'full' THEN 0 WHEN "window" LIKE 'year\_%' ESCAPE '\' THEN 1 ELSE 2 END,
    TRY_CAST(regexp_extract("window", '[0-9]+') AS INTEGER),
    "window"
