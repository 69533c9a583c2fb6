{%- set src = source('raw_support', 'organization_fields') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as organization_field_id,
    key as field_key,
    lower(type) as field_type,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'title', dbt.type_string())) }} as title,
    {{ syncline.column_or_null(cols, 'position', 'bigint') }} as field_position,
    coalesce({{ syncline.column_or_null(cols, 'active', 'boolean') }}, true) as is_active,
    -- JSON array of {id, name, raw_name, value} for dropdowns, NULL otherwise
    {{ syncline.json_as_text(syncline.column_or_null(cols, 'custom_field_options', dbt.type_string())) }} as custom_field_options,
    {{ syncline.utc_timestamp(cols, 'created_at') }} as created_at,
    {{ syncline.utc_timestamp(cols, 'updated_at') }} as updated_at,
    _dlt_load_id

from source
