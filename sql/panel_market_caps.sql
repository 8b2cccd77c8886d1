-- Daily market caps of the given symbols in [start, end], long format, for the index engine.
with market_caps as (
    select date, symbol, market_cap from {market_caps}
),

final as (
    select date, symbol, market_cap
    from market_caps
    where symbol in (select unnest($symbols))
      and date between $start and $end
)

select * from final
