-- Per symbol: rows landed and first/last date inside [start, end] (drives "missing" backfills).
with prices as (
    select date, symbol from {prices}
    where date between $start and $end
),

final as (
    select symbol, count(*) as rows, min(date) as first_date, max(date) as last_date
    from prices
    group by symbol
)

select * from final order by symbol
