-- The last date with landed prices (NULL on an empty lake): where a daily refresh resumes.
with prices as (
    select date from {prices}
),

final as (
    select max(date) as last_date from prices
)

select * from final
