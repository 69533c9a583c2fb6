{#
  One row per billing subscription (billing owns contracts: plan, seats, MRR, status), attached to
  its golden customer, with MRR / ARR in the contract currency and in the reporting currency, the ERP
  customer number, the support entitlement the contract grants, and flags that say whether the other
  systems agree with it.
#}

{%- set reporting_currency = var('reporting_currency') -%}

with subscriptions as (

    select * from {{ ref('int_subscription_current_plan') }}

),

billing_customers as (

    select
        billing_customer_id,
        erp_customer_number as billing_erp_customer_number
    from {{ ref('stg_billing__customers') }}

),

erp_customers as (

    select erp_customer_id, erp_customer_number
    from {{ ref('stg_erp__customers') }}

),

golden_customers as (

    select golden_customer_id, erp_customer_id
    from {{ ref('golden_customers') }}

),

support_organizations as (

    select
        cast(support_organization_id as {{ dbt.type_string() }}) as support_organization_id,
        support_entitlement
    from {{ ref('stg_support__organizations') }}

),

party_matches as (

    select source_system, source_id, golden_id
    from {{ source('identity', 'party_matches') }}

),

fx_rates as (

    -- only the rates into the configured reporting currency
    select currency_code, rate_to_reporting
    from {{ ref('fx_rates') }}
    where reporting_currency_code = '{{ reporting_currency }}'

),

contracts as (

    select
        subscriptions.*,
        billing_matches.golden_id
    from subscriptions
    left join party_matches as billing_matches
        on billing_matches.source_system = 'billing'
        and billing_matches.source_id = subscriptions.billing_customer_id

),

-- the live contract that sets the golden customer's support entitlement: best plan over all the
-- customer's billing accounts (duplicates included), same order as int_billing_customer_subscriptions
entitlement_contracts as (

    select
        golden_id,
        subscription_id as entitlement_contract_id,
        support_entitlement as customer_support_entitlement
    from (
        select
            golden_id,
            subscription_id,
            support_entitlement,
            row_number() over (
                partition by golden_id
                order by plan_rank desc, seats desc, started_at desc, subscription_id
            ) as entitlement_order
        from contracts
        where is_live and golden_id is not null
    ) as ranked
    where entitlement_order = 1

),

-- the golden customer's ERP record: the ERP survivor golden_customers names (the record the other
-- systems reference when the ERP holds duplicates), so contracts and customers agree
golden_erp_customers as (

    select
        golden_customers.golden_customer_id as golden_id,
        erp_customers.erp_customer_id,
        erp_customers.erp_customer_number
    from golden_customers
    inner join erp_customers
        on erp_customers.erp_customer_id = golden_customers.erp_customer_id

),

-- what the golden customer's support organizations show vs. what its best live contract grants
golden_support as (

    select
        support_matches.golden_id,
        count(*) as support_organization_count,
        sum(
            case
                when support_organizations.support_entitlement
                    = coalesce(entitlement_contracts.customer_support_entitlement, 'none') then 1
                else 0
            end
        ) as matching_organization_count
    from party_matches as support_matches
    inner join support_organizations
        on support_matches.source_system = 'support'
        and support_matches.source_id = support_organizations.support_organization_id
    left join entitlement_contracts
        on entitlement_contracts.golden_id = support_matches.golden_id
    group by support_matches.golden_id

),

final as (

    select
        contracts.subscription_id as contract_id,
        contracts.golden_id as golden_customer_id,
        contracts.billing_customer_id,
        contracts.product_id,
        contracts.price_id,
        contracts.plan_code,
        contracts.plan_name,
        contracts.plan_rank,
        contracts.seats,
        contracts.unit_amount,
        contracts.recurring_interval as term,
        contracts.recurring_interval_count as term_interval_count,
        contracts.status,
        contracts.is_live,
        contracts.cancel_at_period_end,
        contracts.cancellation_reason,
        contracts.started_at,
        cast(contracts.started_at as date) as start_date,
        contracts.current_period_start_at,
        contracts.current_period_end_at,
        -- a live contract renews at the end of its current period, unless it is set to end there
        case
            when contracts.is_live and not contracts.cancel_at_period_end
                then cast(contracts.current_period_end_at as date)
        end as renewal_date,
        contracts.trial_end_at,
        contracts.cancel_at,
        contracts.canceled_at,
        contracts.ended_at,
        contracts.currency_code,
        contracts.mrr,
        cast(contracts.mrr * 12 as {{ syncline.money_type() }}) as arr,
        cast('{{ reporting_currency }}' as {{ dbt.type_string() }}) as reporting_currency_code,
        fx_rates.rate_to_reporting as fx_rate_to_reporting,
        cast(contracts.mrr * fx_rates.rate_to_reporting as {{ syncline.money_type() }}) as mrr_reporting,
        cast(
            cast(contracts.mrr * fx_rates.rate_to_reporting as {{ syncline.money_type() }}) * 12
        as {{ syncline.money_type() }}) as arr_reporting,
        golden_erp_customers.erp_customer_id,
        -- ERP owns the number; billing metadata only stands in when the customer has no ERP record
        coalesce(golden_erp_customers.erp_customer_number, billing_customers.billing_erp_customer_number)
            as erp_customer_number,
        case
            when golden_erp_customers.erp_customer_number is not null then 'erp'
            when billing_customers.billing_erp_customer_number is not null then 'billing'
        end as erp_customer_number_source,
        billing_customers.billing_erp_customer_number,
        -- a contract that is not live grants nothing, whatever its plan
        case when contracts.is_live then contracts.support_entitlement else 'none' end as support_entitlement,
        coalesce(entitlement_contracts.customer_support_entitlement, 'none') as customer_support_entitlement,
        coalesce(entitlement_contracts.entitlement_contract_id = contracts.subscription_id, false)
            as is_entitlement_contract,
        coalesce(golden_support.support_organization_count, 0) as support_organization_count,
        golden_erp_customers.erp_customer_id is not null as has_erp_customer,
        coalesce(golden_support.support_organization_count, 0) > 0 as has_support_organization,
        coalesce(
            golden_support.matching_organization_count = golden_support.support_organization_count,
            false
        ) as support_entitlement_matches,
        -- billing metadata names no ERP number (nothing to contradict), or the golden ERP record's
        case
            when billing_customers.billing_erp_customer_number is null then true
            when golden_erp_customers.erp_customer_number is null then false
            else billing_customers.billing_erp_customer_number = golden_erp_customers.erp_customer_number
        end as erp_number_consistent,
        -- the current period (whose end is the renewal of a live contract) ends after the start
        coalesce(contracts.current_period_end_at > contracts.started_at, false) as renewal_after_start
    from contracts
    left join billing_customers
        on billing_customers.billing_customer_id = contracts.billing_customer_id
    left join fx_rates
        on fx_rates.currency_code = contracts.currency_code
    left join entitlement_contracts
        on entitlement_contracts.golden_id = contracts.golden_id
    left join golden_erp_customers
        on golden_erp_customers.golden_id = contracts.golden_id
    left join golden_support
        on golden_support.golden_id = contracts.golden_id

)

select * from final
