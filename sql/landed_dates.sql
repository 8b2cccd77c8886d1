-- Distinct landed dates of the given symbols inside [start, end], per dataset: a chunk counts as
-- landed when both datasets cover every trading day of the range.
with prices as (
    select date from {prices}
    where symbol in (select unnest($symbols)) and date between $start and $end
),

market_caps as (
    select date from {market_caps}
    where symbol in (select unnest($symbols)) and date between $start and $end
),

final as (
    select
        (select count(distinct date) from prices) as price_dates,
        (select count(distinct date) from market_caps) as market_cap_dates
)

select * from final
