-- Cash dividends (ex-date, split-adjusted amount per share) of the given symbols in [start, end],
-- long format, for total-return indexes.
with dividends as (
    select date, symbol, amount from {dividends}
),

final as (
    select date, symbol, amount
    from dividends
    where symbol in (select unnest($symbols))
      and date between $start and $end
)

select * from final
