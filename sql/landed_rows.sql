-- Row count and date span of every landed and published dataset.
with counts as (
    select 'prices' as dataset, count(*) as rows, min(date) as first_date, max(date) as last_date
    from {prices}
    union all
    select 'market_caps', count(*), min(date), max(date) from {market_caps}
    union all
    select 'index_levels', count(*), min(date), max(date) from {index_levels}
    union all
    select 'allocations', count(*), min(date), max(date) from {allocations}
    union all
    select 'rebalance_orders', count(*), min(rebalance_date), max(rebalance_date)
    from {rebalance_orders}
    union all
    select 'risk_metrics', count(*), min(end_date), max(end_date) from {risk_metrics}
),

final as (select * from counts)

select * from final
