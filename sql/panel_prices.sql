-- Daily closes of the given symbols in [start, end], long format, for the index engine.
with prices as (
    select date, symbol, close from {prices}
),

final as (
    select date, symbol, close
    from prices
    where symbol in (select unnest($symbols))
      and date between $start and $end
)

select * from final
