-- Published rows of the given symbols in [start, end) for the data quality checks that look
-- back (split-like jumps, return outliers, gaps): the days just before a batch.
with prices as (
    select date, symbol, open, high, low, close, volume from {prices}
    where symbol in (select unnest($symbols)) and date >= $start and date < $end
),

final as (
    select * from prices
)

select * from final order by symbol, date
