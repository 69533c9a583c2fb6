{{
    config(
        materialized='incremental',
        unique_key='invoice_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
{#- Incremental: invoices accumulate forever; only rows (re)written by dlt loads newer than the
    newest one already here are read again (dlt merges an updated invoice with a new load id). -#}
{%- set src = source('raw_billing', 'invoices') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}
    where {{ syncline.new_dlt_loads_only() }}

)

select
    id as invoice_id,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'number', dbt.type_string())) }} as invoice_number,
    customer as billing_customer_id,
    {{ syncline.column_or_null(cols, 'subscription', dbt.type_string()) }} as subscription_id,
    lower(status) as status,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'billing_reason', dbt.type_string())) }} as billing_reason,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'collection_method', dbt.type_string())) }} as collection_method,
    {{ syncline.currency_code('currency') }} as currency_code,
    {{ syncline.minor_to_major('subtotal', 'currency') }} as subtotal,
    {{ syncline.minor_to_major('subtotal - coalesce(' ~ syncline.column_or_null(cols, 'total_excluding_tax', 'bigint') ~ ', subtotal)', 'currency') }} as discount_amount,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'total_excluding_tax', 'bigint') ~ ', total)', 'currency') }} as total_excluding_tax,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'tax', 'bigint') ~ ', 0)', 'currency') }} as tax_amount,
    {{ syncline.minor_to_major('total', 'currency') }} as total_amount,
    {{ syncline.minor_to_major('amount_due', 'currency') }} as amount_due,
    {{ syncline.minor_to_major('amount_paid', 'currency') }} as amount_paid,
    {{ syncline.minor_to_major('amount_remaining', 'currency') }} as amount_remaining,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'pre_payment_credit_notes_amount', 'bigint') ~ ', 0)', 'currency') }} as pre_payment_credit_notes_amount,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'post_payment_credit_notes_amount', 'bigint') ~ ', 0)', 'currency') }} as post_payment_credit_notes_amount,
    coalesce({{ syncline.column_or_null(cols, 'attempt_count', 'bigint') }}, 0) as attempt_count,
    coalesce({{ syncline.column_or_null(cols, 'paid', 'boolean') }}, false) as is_paid,
    coalesce({{ syncline.column_or_null(cols, 'deleted', 'boolean') }}, false) as is_deleted,
    {{ syncline.column_or_null(cols, 'charge', dbt.type_string()) }} as charge_id,
    -- the customer as printed on the invoice when it was finalized
    {{ syncline.clean_text(syncline.column_or_null(cols, 'customer_name', dbt.type_string())) }} as customer_name,
    {{ syncline.clean_email(syncline.column_or_null(cols, 'customer_email', dbt.type_string())) }} as customer_email,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'customer_tax_exempt', dbt.type_string())) }} as customer_tax_exempt,
    {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
    {{ syncline.utc_timestamp(cols, 'period_start') }} as period_start_at,
    {{ syncline.utc_timestamp(cols, 'period_end') }} as period_end_at,
    {{ syncline.utc_timestamp(cols, 'due_date') }} as due_at,
    {{ syncline.utc_timestamp(cols, 'effective_at') }} as effective_at,
    {{ syncline.json_epoch_to_timestamp(syncline.column_or_null(cols, 'status_transitions', dbt.type_string()), 'finalized_at') }} as finalized_at,
    {{ syncline.json_epoch_to_timestamp(syncline.column_or_null(cols, 'status_transitions', dbt.type_string()), 'paid_at') }} as paid_at,
    {{ syncline.json_epoch_to_timestamp(syncline.column_or_null(cols, 'status_transitions', dbt.type_string()), 'marked_uncollectible_at') }} as marked_uncollectible_at,
    {{ syncline.json_epoch_to_timestamp(syncline.column_or_null(cols, 'status_transitions', dbt.type_string()), 'voided_at') }} as voided_at,
    _dlt_load_id

from source
