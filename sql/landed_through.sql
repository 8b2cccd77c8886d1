-- The last landed date of each given symbol in prices and in market caps (NULL where none): where
-- a daily refresh resumes that symbol when the landing log does not know it yet.
with prices as (
    select symbol, max(date) as last_price from {prices}
    where symbol in (select unnest($symbols))
    group by symbol
),

market_caps as (
    select symbol, max(date) as last_market_cap from {market_caps}
    where symbol in (select unnest($symbols))
    group by symbol
),

final as (
    select
        coalesce(p.symbol, c.symbol) as symbol,
        p.last_price,
        c.last_market_cap
    from prices as p
    full outer join market_caps as c on p.symbol = c.symbol
)

select * from final
