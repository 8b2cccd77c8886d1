-- Per strategy: latest level, its return over the last year, and the benchmark's over the same
-- dates. "One year ago" is the last published date on or before latest - 1 year.
with levels as (
    select strategy_id, date, level from {index_levels}
),

prices as (
    select symbol, date, close from {prices} where symbol = $benchmark
),

latest as (
    select strategy_id, max(date) as last_date, min(date) as first_date
    from levels
    group by strategy_id
),

year_ago as (
    select l.strategy_id, max(v.date) as year_ago_date
    from latest l
    join levels v
      on v.strategy_id = l.strategy_id
     and v.date <= l.last_date - interval 1 year
    group by l.strategy_id
),

final as (
    select
        l.strategy_id,
        l.first_date,
        l.last_date,
        last_level.level as last_level,
        y.year_ago_date,
        last_level.level / start_level.level - 1 as return_1y,
        bench_last.close / bench_start.close - 1 as benchmark_return_1y
    from latest l
    join levels last_level
      on last_level.strategy_id = l.strategy_id and last_level.date = l.last_date
    left join year_ago y on y.strategy_id = l.strategy_id
    left join levels start_level
      on start_level.strategy_id = l.strategy_id and start_level.date = y.year_ago_date
    left join prices bench_last on bench_last.date = l.last_date
    left join prices bench_start on bench_start.date = y.year_ago_date
)

select * from final order by strategy_id
