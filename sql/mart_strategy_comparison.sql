-- Full-period comparison of every published strategy against its benchmark, one row each.
with comparison as (
    select * from {strategy_comparison}
),

final as (
    select
        strategy_id,
        start_date,
        end_date,
        annualised_return,
        annualised_volatility,
        sharpe,
        max_drawdown,
        average_annual_turnover,
        benchmark_symbol,
        excess_return,
        tracking_error,
        information_ratio
    from comparison
    where "window" = 'full'
)

select * from final order by strategy_id
