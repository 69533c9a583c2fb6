{%- set src = source('raw_billing', 'subscriptions') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as subscription_id,
    customer as billing_customer_id,
    lower(status) as status,
    lower(status) in ({{ "'" ~ var('billing_live_statuses') | join("', '") ~ "'" }}) as is_live,
    {{ syncline.currency_code(syncline.column_or_null(cols, 'currency', dbt.type_string())) }} as currency_code,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'collection_method', dbt.type_string())) }} as collection_method,
    coalesce({{ syncline.column_or_null(cols, 'cancel_at_period_end', 'boolean') }}, false) as cancel_at_period_end,
    {{ syncline.json_text_or_null(cols, 'cancellation_details', 'reason') }} as cancellation_reason,
    {{ syncline.json_text_or_null(cols, 'cancellation_details', 'feedback') }} as cancellation_feedback,
    {{ syncline.json_text_or_null(cols, 'discount', ['coupon', 'id']) }} as coupon_id,
    cast(coalesce(cast({{ syncline.json_text_or_null(cols, 'discount', ['coupon', 'percent_off']) }} as decimal(9, 4)), 0) as decimal(9, 4)) as discount_percent,
    {{ syncline.column_or_null(cols, 'latest_invoice', dbt.type_string()) }} as latest_invoice_id,
    {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
    {{ syncline.utc_timestamp(cols, 'start_date') }} as started_at,
    {{ syncline.utc_timestamp(cols, 'billing_cycle_anchor') }} as billing_cycle_anchor_at,
    {{ syncline.utc_timestamp(cols, 'current_period_start') }} as current_period_start_at,
    {{ syncline.utc_timestamp(cols, 'current_period_end') }} as current_period_end_at,
    {{ syncline.utc_timestamp(cols, 'trial_start') }} as trial_start_at,
    {{ syncline.utc_timestamp(cols, 'trial_end') }} as trial_end_at,
    {{ syncline.utc_timestamp(cols, 'cancel_at') }} as cancel_at,
    {{ syncline.utc_timestamp(cols, 'canceled_at') }} as canceled_at,
    {{ syncline.utc_timestamp(cols, 'ended_at') }} as ended_at,
    _dlt_load_id

from source
