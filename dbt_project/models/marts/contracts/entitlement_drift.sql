{#
  One row per Zendesk organization, with its golden customer: the support entitlement the
  organization shows vs. the one billing grants the golden customer (its best live contract over all
  its billing accounts; 'none' without one). Organizations whose golden customer has no billing
  account at all are flagged (is_linked_to_billing = false): billing grants them nothing, but that
  may be a missed identity match, so the outbound sync leaves them alone and the KPI reports them
  apart.
#}

with support_organizations as (

    select
        support_organization_id,
        organization_name,
        billing_customer_id,
        plan_code,
        support_entitlement,
        updated_at
    from {{ ref('stg_support__organizations') }}

),

party_matches as (

    select source_system, source_id, golden_id
    from {{ source('identity', 'party_matches') }}

),

golden_contracts as (

    select * from {{ ref('golden_contracts') }}

),

products as (

    select plan_code, support_entitlement
    from {{ ref('stg_billing__products') }}

),

plan_tiers as (

    select plan_code, plan_rank from {{ ref('plan_tiers') }}

),

-- entitlement levels ranked like the plans that grant them; 'none' below all
entitlement_ranks as (

    select cast('none' as {{ dbt.type_string() }}) as entitlement, 0 as entitlement_rank

    union all

    select products.support_entitlement as entitlement, max(plan_tiers.plan_rank) as entitlement_rank
    from products
    inner join plan_tiers
        on plan_tiers.plan_code = products.plan_code
    where products.support_entitlement is not null
    group by products.support_entitlement

),

billing_linked as (

    select distinct golden_id
    from party_matches
    where source_system = 'billing'

),

expected as (

    select
        golden_customer_id,
        contract_id as entitlement_contract_id,
        plan_code as expected_plan_code,
        customer_support_entitlement as expected_entitlement
    from golden_contracts
    where is_entitlement_contract

),

compared as (

    select
        support_organizations.support_organization_id,
        support_organizations.organization_name,
        support_matches.golden_id as golden_customer_id,
        support_organizations.billing_customer_id,
        billing_linked.golden_id is not null as is_linked_to_billing,
        support_organizations.plan_code as current_plan_code,
        support_organizations.support_entitlement as current_entitlement,
        expected.expected_plan_code,
        coalesce(expected.expected_entitlement, 'none') as expected_entitlement,
        expected.entitlement_contract_id,
        current_ranks.entitlement_rank as current_entitlement_rank,
        coalesce(expected_ranks.entitlement_rank, 0) as expected_entitlement_rank,
        support_organizations.updated_at as organization_updated_at
    from support_organizations
    inner join party_matches as support_matches
        on support_matches.source_system = 'support'
        and support_matches.source_id = cast(support_organizations.support_organization_id as {{ dbt.type_string() }})
    left join billing_linked
        on billing_linked.golden_id = support_matches.golden_id
    left join expected
        on expected.golden_customer_id = support_matches.golden_id
    left join entitlement_ranks as current_ranks
        on current_ranks.entitlement = support_organizations.support_entitlement
    left join entitlement_ranks as expected_ranks
        on expected_ranks.entitlement = coalesce(expected.expected_entitlement, 'none')

),

final as (

    select
        support_organization_id,
        organization_name,
        golden_customer_id,
        billing_customer_id,
        is_linked_to_billing,
        current_plan_code,
        current_entitlement,
        expected_plan_code,
        expected_entitlement,
        entitlement_contract_id,
        -- a blank field counts as drift too: support must show 'none' explicitly
        coalesce(current_entitlement <> expected_entitlement, true) as is_drifted,
        case
            when coalesce(current_entitlement = expected_entitlement, false) then null
            -- blank, or a value no plan grants
            when current_entitlement_rank is null then 'missing_entitlement'
            when expected_entitlement = 'none' then 'should_be_none'
            when current_entitlement = 'none' then 'missing_entitlement'
            when current_entitlement_rank < expected_entitlement_rank then 'stale_lower'
            when current_entitlement_rank > expected_entitlement_rank then 'stale_higher'
            else 'missing_entitlement'
        end as drift_kind,
        organization_updated_at
    from compared

)

select * from final
