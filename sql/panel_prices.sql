-- Daily closes and volumes of the given symbols in [start, end], long, for the index engine.
with prices as (
    select date, symbol, close, volume from {prices}
),

final as (
    select date, symbol, close, volume
    from prices
    where symbol in (select unnest($symbols))
      and date between $start and $end
)

select * from final
