{%- set src = source('raw_billing', 'charges') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as charge_id,
    {{ syncline.column_or_null(cols, 'customer', dbt.type_string()) }} as billing_customer_id,
    {{ syncline.column_or_null(cols, 'invoice', dbt.type_string()) }} as invoice_id,
    {{ syncline.column_or_null(cols, 'payment_intent', dbt.type_string()) }} as payment_intent_id,
    lower(status) as status,
    coalesce({{ syncline.column_or_null(cols, 'paid', 'boolean') }}, false) as is_paid,
    coalesce({{ syncline.column_or_null(cols, 'captured', 'boolean') }}, false) as is_captured,
    coalesce({{ syncline.column_or_null(cols, 'refunded', 'boolean') }}, false) as is_refunded,
    coalesce({{ syncline.column_or_null(cols, 'disputed', 'boolean') }}, false) as is_disputed,
    {{ syncline.currency_code('currency') }} as currency_code,
    {{ syncline.minor_to_major('amount', 'currency') }} as amount,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'amount_captured', 'bigint') ~ ', 0)', 'currency') }} as amount_captured,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'amount_refunded', 'bigint') ~ ', 0)', 'currency') }} as amount_refunded,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'failure_code', dbt.type_string())) }} as failure_code,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'failure_message', dbt.type_string())) }} as failure_message,
    {{ syncline.json_text_or_null(cols, 'outcome', 'type') }} as outcome_type,
    {{ syncline.json_text_or_null(cols, 'outcome', 'reason') }} as outcome_reason,
    {{ syncline.json_text_or_null(cols, 'payment_method_details', 'type') }} as payment_method_type,
    {{ syncline.json_text_or_null(cols, 'payment_method_details', ['card', 'brand']) }} as card_brand,
    {{ syncline.json_text_or_null(cols, 'payment_method_details', ['card', 'last4']) }} as card_last4,
    {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
    _dlt_load_id

from source
