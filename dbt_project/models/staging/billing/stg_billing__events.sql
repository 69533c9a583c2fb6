{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
{#- Incremental: Stripe keeps events for 30 days but the raw table keeps them all (append stream
    merged on id); each run reads only the events of newer dlt loads. -#}
{%- set src = source('raw_billing', 'events') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}
    where {{ syncline.new_dlt_loads_only() }}

),

renamed as (

    select
        id as event_id,
        type as event_type,
        {{ syncline.json_text('data', ['object', 'object']) }} as object_type,
        {{ syncline.json_text('data', ['object', 'id']) }} as object_id,
        {{ syncline.json_text('data', ['object', 'customer']) }} as object_customer_id,
        {{ syncline.json_text('data', ['object', 'status']) }} as object_status,
        -- JSON text of the changed fields' old values (updates only)
        {{ syncline.json_text('data', 'previous_attributes') }} as previous_attributes,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'api_version', dbt.type_string())) }} as api_version,
        {{ syncline.json_text_or_null(cols, 'request', 'id') }} as request_id,
        {{ syncline.json_text_or_null(cols, 'request', 'idempotency_key') }} as idempotency_key,
        coalesce({{ syncline.column_or_null(cols, 'livemode', 'boolean') }}, false) as is_livemode,
        {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
        _dlt_load_id

    from source

)

select
    event_id,
    event_type,
    object_type,
    object_id,
    -- the billing customer the event is about (the object itself for customer.* events)
    case when object_type = 'customer' then object_id else object_customer_id end as billing_customer_id,
    object_status,
    previous_attributes is not null as has_previous_attributes,
    previous_attributes,
    api_version,
    request_id,
    idempotency_key,
    is_livemode,
    created_at,
    _dlt_load_id
from renamed
