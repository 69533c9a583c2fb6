{%- set src = source('raw_billing', 'products') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as product_id,
    {{ syncline.clean_text('name') }} as product_name,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'description', dbt.type_string())) }} as description,
    -- the catalogue's plan code and the support tier the plan grants (product metadata)
    lower({{ syncline.clean_text(syncline.json_text_or_null(cols, 'metadata', 'plan_code')) }}) as plan_code,
    lower({{ syncline.clean_text(syncline.json_text_or_null(cols, 'metadata', 'support_tier')) }}) as support_entitlement,
    {{ syncline.column_or_null(cols, 'default_price', dbt.type_string()) }} as default_price_id,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'unit_label', dbt.type_string())) }} as unit_label,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'type', dbt.type_string())) }} as product_type,
    coalesce({{ syncline.column_or_null(cols, 'active', 'boolean') }}, true) as is_active,
    coalesce({{ syncline.column_or_null(cols, 'deleted', 'boolean') }}, false) as is_deleted,
    {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
    {{ syncline.utc_timestamp(cols, 'updated') }} as updated_at,
    _dlt_load_id

from source
