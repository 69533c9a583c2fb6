{#
  Support entitlement accuracy (DESIGN section 8): the share of support organizations linked to a
  billing customer that show the entitlement billing grants. Organizations with no billing link
  cannot be checked (billing grants them nothing, or identity missed the link) and are counted
  apart.
#}

with drift as (

    select * from {{ ref('entitlement_drift') }}

),

counts as (

    select
        cast(sum(case when is_linked_to_billing then 1 else 0 end) as bigint) as organizations_checked,
        cast(sum(case when is_linked_to_billing and not is_drifted then 1 else 0 end) as bigint)
            as organizations_correct,
        cast(sum(case when is_linked_to_billing and drift_kind = 'missing_entitlement' then 1 else 0 end) as bigint)
            as missing_entitlement_count,
        cast(sum(case when is_linked_to_billing and drift_kind = 'stale_lower' then 1 else 0 end) as bigint)
            as stale_lower_count,
        cast(sum(case when is_linked_to_billing and drift_kind = 'stale_higher' then 1 else 0 end) as bigint)
            as stale_higher_count,
        cast(sum(case when is_linked_to_billing and drift_kind = 'should_be_none' then 1 else 0 end) as bigint)
            as should_be_none_count,
        cast(sum(case when not is_linked_to_billing then 1 else 0 end) as bigint) as unlinked_organizations,
        cast(sum(case when not is_linked_to_billing and current_entitlement <> 'none' then 1 else 0 end) as bigint)
            as unlinked_with_entitlement_count
    from drift

)

select
    coalesce(organizations_checked, 0) as organizations_checked,
    coalesce(organizations_correct, 0) as organizations_correct,
    -- NULL when nothing could be checked (no division by zero)
    cast(
        case when organizations_checked > 0
            then 1.0 * organizations_correct / organizations_checked
        end
    as decimal(9, 4)) as entitlement_accuracy,
    coalesce(organizations_checked, 0) - coalesce(organizations_correct, 0) as organizations_drifted,
    coalesce(missing_entitlement_count, 0) as missing_entitlement_count,
    coalesce(stale_lower_count, 0) as stale_lower_count,
    coalesce(stale_higher_count, 0) as stale_higher_count,
    coalesce(should_be_none_count, 0) as should_be_none_count,
    coalesce(unlinked_organizations, 0) as unlinked_organizations,
    coalesce(unlinked_with_entitlement_count, 0) as unlinked_with_entitlement_count,
    {{ syncline.tz_to_utc_timestamp('current_timestamp') }} as measured_at
from counts
