-- Strategy level and benchmark close on their common dates, both rebased at the first.
-- File lists ($levels, $prices, ...) and values are bound as parameters by the API.
WITH strategy AS (
    SELECT date, level
    FROM read_parquet($levels, hive_partitioning = true, hive_types = {'strategy_id': VARCHAR})
    WHERE strategy_id = $strategy_id AND ($start IS NULL OR date >= $start::DATE) AND ($end IS NULL OR date <= $end::DATE)
),
benchmark AS (
    SELECT date, close
    FROM read_parquet($prices, hive_partitioning = true, hive_types = {'year': INTEGER})
    WHERE symbol = $symbol AND ($start IS NULL OR date >= $start::DATE) AND ($end IS NULL OR date <= $end::DATE)
      AND ($start IS NULL OR year >= year($start::DATE))
      AND ($end IS NULL OR year <= year($end::DATE))
),
joined AS (
    SELECT date, s.level, b.close,
           $rebase * s.level / first_value(s.level) OVER (ORDER BY date) AS strategy_rebased,
           $rebase * b.close / first_value(b.close) OVER (ORDER BY date) AS benchmark_rebased
    FROM strategy AS s JOIN benchmark AS b USING (date)
)
SELECT date, level AS strategy_level, close AS benchmark_close, strategy_rebased,
       benchmark_rebased, strategy_rebased / benchmark_rebased - 1 AS relative_performance
FROM joined
ORDER BY date
