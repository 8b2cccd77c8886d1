-- The latest validation of every dataset partition (dq_results) and the rows of it still held
-- in quarantine. A result row without a severity (written before severities existed) counts
-- as critical. One row per dataset and partition, failing ones first.
with results as (
    select
        dataset,
        "partition",
        run_id,
        validated_at,
        success,
        coalesce(severity, 'critical') as severity
    from {dq_results}
),

latest_run as (
    select dataset, "partition", arg_max(run_id, validated_at) as run_id, max(validated_at) as validated_at
    from results
    group by dataset, "partition"
),

outcome as (
    select
        l.dataset,
        l."partition",
        l.run_id,
        l.validated_at,
        count(*) as checks,
        count(*) filter (where not r.success and r.severity = 'critical') as failed,
        count(*) filter (where not r.success and r.severity <> 'critical') as warnings
    from latest_run as l
    inner join results as r
        on r.dataset = l.dataset and r."partition" = l."partition" and r.run_id = l.run_id
    group by l.dataset, l."partition", l.run_id, l.validated_at
),

held as (
    select dataset, "partition", count(*) as quarantined
    from {quarantine}
    where resolved_at is null
    group by dataset, "partition"
),

final as (
    select
        coalesce(o.dataset, h.dataset) as dataset,
        coalesce(o."partition", h."partition") as "partition",
        o.run_id,
        o.validated_at,
        coalesce(o.checks, 0) as checks,
        coalesce(o.failed, 0) as failed,
        coalesce(o.warnings, 0) as warnings,
        coalesce(h.quarantined, 0) as quarantined
    from outcome as o
    full outer join held as h
        on o.dataset = h.dataset and o."partition" = h."partition"
)

select * from final
order by (failed > 0) desc, dataset, "partition"
