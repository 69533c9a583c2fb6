{%- set src = source('raw_billing', 'prices') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as price_id,
    product as product_id,
    {{ syncline.currency_code('currency') }} as currency_code,
    -- NULL for tiered prices (see the tiers on subscription items and invoice lines)
    {{ syncline.minor_to_major(syncline.column_or_null(cols, 'unit_amount', 'bigint'), 'currency') }} as unit_amount,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'billing_scheme', dbt.type_string())) }} as billing_scheme,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'tiers_mode', dbt.type_string())) }} as tiers_mode,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'type', dbt.type_string())) }} as price_type,
    {{ syncline.json_text_or_null(cols, 'recurring', 'interval') }} as recurring_interval,
    cast({{ syncline.json_text_or_null(cols, 'recurring', 'interval_count') }} as bigint) as recurring_interval_count,
    {{ syncline.json_text_or_null(cols, 'recurring', 'usage_type') }} as usage_type,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'lookup_key', dbt.type_string())) }} as lookup_key,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'nickname', dbt.type_string())) }} as nickname,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'tax_behavior', dbt.type_string())) }} as tax_behavior,
    coalesce({{ syncline.column_or_null(cols, 'active', 'boolean') }}, true) as is_active,
    coalesce({{ syncline.column_or_null(cols, 'deleted', 'boolean') }}, false) as is_deleted,
    {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
    _dlt_load_id

from source
