{#
  One row per billing subscription with its current plan, seats and recurring revenue. The plan is
  the product of the subscription's items (the highest-ranked one if a subscription ever has
  several); seats and MRR add up over the items.
#}

with subscriptions as (

    select * from {{ ref('stg_billing__subscriptions') }}

),

items as (

    select * from {{ ref('stg_billing__subscription_items') }}

),

products as (

    select * from {{ ref('stg_billing__products') }}

),

plan_tiers as (

    select plan_code, plan_rank from {{ ref('plan_tiers') }}

),

priced_items as (

    select
        items.subscription_item_id,
        items.subscription_id,
        items.price_id,
        items.product_id,
        products.product_name as plan_name,
        products.plan_code,
        coalesce(plan_tiers.plan_rank, 0) as plan_rank,
        products.support_entitlement,
        items.quantity,
        items.unit_amount,
        items.currency_code,
        items.recurring_interval,
        items.recurring_interval_count,
        -- the item's list price per month (discounts applied below, per subscription)
        cast(
            items.unit_amount * items.quantity
            * case items.recurring_interval
                when 'month' then 1.0
                when 'year' then 1.0 / 12
                when 'week' then 52.0 / 12
                when 'day' then 365.0 / 12
              end
            / items.recurring_interval_count
        as decimal(18, 4)) as monthly_list_amount,
        row_number() over (
            partition by items.subscription_id
            order by coalesce(plan_tiers.plan_rank, 0) desc, items.quantity desc, items.subscription_item_id
        ) as item_rank
    from items
    left join products
        on products.product_id = items.product_id
    left join plan_tiers
        on plan_tiers.plan_code = products.plan_code

),

per_subscription as (

    select
        subscription_id,
        count(*) as item_count,
        cast(sum(quantity) as bigint) as seats,
        sum(monthly_list_amount) as monthly_list_amount
    from priced_items
    group by subscription_id

)

select
    subscriptions.subscription_id,
    subscriptions.billing_customer_id,
    subscriptions.status,
    subscriptions.is_live,
    top_item.subscription_item_id,
    top_item.price_id,
    top_item.product_id,
    top_item.plan_code,
    top_item.plan_name,
    coalesce(top_item.plan_rank, 0) as plan_rank,
    top_item.support_entitlement,
    coalesce(per_subscription.item_count, 0) as item_count,
    coalesce(per_subscription.seats, 0) as seats,
    top_item.unit_amount,
    coalesce(subscriptions.currency_code, top_item.currency_code) as currency_code,
    top_item.recurring_interval,
    top_item.recurring_interval_count,
    subscriptions.discount_percent,
    -- monthly recurring revenue after the subscription's discount; only subscriptions that are
    -- billed now count (active, past_due), trials and canceled ones are 0
    cast(
        case when subscriptions.status in ('active', 'past_due')
            then per_subscription.monthly_list_amount * (1 - subscriptions.discount_percent / 100)
            else 0
        end
    as {{ syncline.money_type() }}) as mrr,
    cast(
        per_subscription.monthly_list_amount * (1 - subscriptions.discount_percent / 100)
    as {{ syncline.money_type() }}) as contracted_mrr,
    subscriptions.cancel_at_period_end,
    subscriptions.cancellation_reason,
    subscriptions.created_at,
    subscriptions.started_at,
    subscriptions.current_period_start_at,
    subscriptions.current_period_end_at,
    subscriptions.trial_start_at,
    subscriptions.trial_end_at,
    subscriptions.cancel_at,
    subscriptions.canceled_at,
    subscriptions.ended_at,
    subscriptions.latest_invoice_id
from subscriptions
left join priced_items as top_item
    on top_item.subscription_id = subscriptions.subscription_id
    and top_item.item_rank = 1
left join per_subscription
    on per_subscription.subscription_id = subscriptions.subscription_id
