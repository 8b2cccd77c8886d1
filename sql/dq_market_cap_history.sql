-- Published market caps of the given symbols in [start, end): the days just before a batch,
-- for the day-over-day jump check.
with market_caps as (
    select date, symbol, market_cap, source from {market_caps}
    where symbol in (select unnest($symbols)) and date >= $start and date < $end
),

final as (
    select * from market_caps
)

select * from final order by symbol, date
