{%- set src = source('raw_billing', 'subscription_items') -%}
{%- set cols = syncline.relation_columns(src) -%}

with items as (

    select * from {{ src }}

),

subscriptions as (

    select id, _dlt_load_id from {{ source('raw_billing', 'subscriptions') }}

),

-- A subscription and its items are written by the same load: an item whose load id differs from its
-- subscription's was removed from it since (e.g. a plan change that swapped the item).
current_items as (

    select items.*
    from items
    inner join subscriptions
        on subscriptions.id = items.subscription
        and subscriptions._dlt_load_id = items._dlt_load_id

)

select
    id as subscription_item_id,
    subscription as subscription_id,
    {{ syncline.json_text('price', 'id') }} as price_id,
    {{ syncline.json_text('price', 'product') }} as product_id,
    coalesce({{ syncline.column_or_null(cols, 'quantity', 'bigint') }}, 1) as quantity,
    {{ syncline.currency_code(syncline.json_text('price', 'currency')) }} as currency_code,
    -- per-unit price; graduated tiered prices (enterprise) carry it on their first tier
    {{ syncline.minor_to_major(
        'coalesce(cast(' ~ syncline.json_text('price', 'unit_amount') ~ ' as bigint), cast('
        ~ syncline.json_text('price', ['tiers', 0, 'unit_amount']) ~ ' as bigint))',
        syncline.json_text('price', 'currency')) }} as unit_amount,
    {{ syncline.json_text('price', 'billing_scheme') }} as billing_scheme,
    {{ syncline.json_text('price', 'tiers_mode') }} as tiers_mode,
    {{ syncline.json_text('price', ['recurring', 'interval']) }} as recurring_interval,
    coalesce(cast({{ syncline.json_text('price', ['recurring', 'interval_count']) }} as bigint), 1) as recurring_interval_count,
    {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
    _dlt_load_id

from current_items
