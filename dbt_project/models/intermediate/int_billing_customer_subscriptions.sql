{#
  One row per (non-deleted) billing customer: what its subscriptions grant right now. The support
  entitlement follows the best plan among the live subscriptions (active, trialing, past_due: a
  subscription set to cancel at period end stays live until then), seats add up over the live
  subscriptions, lifecycle_status is the billing-owned customer lifecycle.
#}

with customers as (

    select billing_customer_id, currency_code
    from {{ ref('stg_billing__customers') }}
    where not is_deleted

),

subscriptions as (

    select * from {{ ref('int_subscription_current_plan') }}

),

best_live_plan as (

    select
        billing_customer_id,
        plan_code,
        plan_rank,
        support_entitlement,
        row_number() over (
            partition by billing_customer_id
            order by plan_rank desc, seats desc, started_at desc, subscription_id
        ) as plan_order
    from subscriptions
    where is_live

),

summary as (

    select
        billing_customer_id,
        count(*) as subscription_count,
        cast(sum(case when is_live then 1 else 0 end) as bigint) as live_subscription_count,
        cast(sum(case when status in ('active', 'past_due') then 1 else 0 end) as bigint) as paying_subscription_count,
        cast(sum(case when status = 'trialing' then 1 else 0 end) as bigint) as trialing_subscription_count,
        cast(sum(case when status = 'past_due' then 1 else 0 end) as bigint) as past_due_subscription_count,
        cast(sum(case when is_live then seats else 0 end) as bigint) as live_seats,
        sum(mrr) as mrr,
        min(started_at) as first_subscription_started_at,
        max(ended_at) as last_subscription_ended_at,
        min(case when is_live then current_period_end_at end) as next_period_end_at
    from subscriptions
    group by billing_customer_id

)

select
    customers.billing_customer_id,
    coalesce(summary.subscription_count, 0) as subscription_count,
    coalesce(summary.live_subscription_count, 0) as live_subscription_count,
    coalesce(summary.paying_subscription_count, 0) as paying_subscription_count,
    coalesce(summary.trialing_subscription_count, 0) as trialing_subscription_count,
    coalesce(summary.past_due_subscription_count, 0) as past_due_subscription_count,
    best_live_plan.plan_code as best_live_plan_code,
    best_live_plan.plan_rank as best_live_plan_rank,
    coalesce(best_live_plan.support_entitlement, 'none') as support_entitlement,
    coalesce(summary.live_seats, 0) as live_seats,
    cast(coalesce(summary.mrr, 0) as {{ syncline.money_type() }}) as mrr,
    customers.currency_code,
    case
        when coalesce(summary.paying_subscription_count, 0) > 0 then 'customer'
        when coalesce(summary.trialing_subscription_count, 0) > 0 then 'trial'
        when coalesce(summary.subscription_count, 0) > 0 then 'churned'
        else 'prospect'
    end as lifecycle_status,
    summary.first_subscription_started_at,
    summary.last_subscription_ended_at,
    summary.next_period_end_at
from customers
left join summary
    on summary.billing_customer_id = customers.billing_customer_id
left join best_live_plan
    on best_live_plan.billing_customer_id = customers.billing_customer_id
    and best_live_plan.plan_order = 1
