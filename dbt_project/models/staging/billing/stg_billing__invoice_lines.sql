{{
    config(
        materialized='incremental',
        unique_key='invoice_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
{#- Incremental per invoice: the lines of every invoice (re)loaded since the last run replace that
    invoice's lines here (delete+insert on invoice_id), so a line removed from an invoice goes too. -#}
{%- set src = source('raw_billing', 'invoice_lines') -%}
{%- set cols = syncline.relation_columns(src) -%}

with invoices as (

    select id, _dlt_load_id
    from {{ source('raw_billing', 'invoices') }}
    where {{ syncline.new_dlt_loads_only() }}

),

-- An invoice and its lines are written by the same load: a line whose load id differs from its
-- invoice's was removed from the invoice since.
lines as (

    select lines.*
    from {{ src }} as lines
    inner join invoices
        on invoices.id = lines.invoice
        and invoices._dlt_load_id = lines._dlt_load_id

)

select
    id as invoice_line_id,
    invoice as invoice_id,
    {{ syncline.column_or_null(cols, 'subscription', dbt.type_string()) }} as subscription_id,
    {{ syncline.column_or_null(cols, 'subscription_item', dbt.type_string()) }} as subscription_item_id,
    {{ syncline.json_text_or_null(cols, 'price', 'id') }} as price_id,
    {{ syncline.json_text_or_null(cols, 'price', 'product') }} as product_id,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'type', dbt.type_string())) }} as line_type,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'description', dbt.type_string())) }} as description,
    coalesce({{ syncline.column_or_null(cols, 'quantity', 'bigint') }}, 1) as quantity,
    {{ syncline.currency_code('currency') }} as currency_code,
    {{ syncline.minor_to_major(
        'coalesce(cast(' ~ syncline.json_text_or_null(cols, 'price', 'unit_amount') ~ ' as bigint), cast('
        ~ syncline.json_text_or_null(cols, 'price', ['tiers', 0, 'unit_amount']) ~ ' as bigint))',
        'currency') }} as unit_amount,
    -- amount before discounts and tax
    {{ syncline.minor_to_major('amount', 'currency') }} as amount,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.json_array_sum(syncline.column_or_null(cols, 'discount_amounts', dbt.type_string()), 'amount') ~ ', 0)', 'currency') }} as discount_amount,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.json_array_sum(syncline.column_or_null(cols, 'tax_amounts', dbt.type_string()), 'amount') ~ ', 0)', 'currency') }} as tax_amount,
    {{ syncline.json_text_or_null(cols, 'price', ['recurring', 'interval']) }} as recurring_interval,
    coalesce({{ syncline.column_or_null(cols, 'proration', 'boolean') }}, false) as is_proration,
    {{ syncline.epoch_to_timestamp('cast(' ~ syncline.json_text_or_null(cols, 'period', 'start') ~ ' as bigint)') }} as period_start_at,
    {{ syncline.epoch_to_timestamp('cast(' ~ syncline.json_text_or_null(cols, 'period', 'end') ~ ' as bigint)') }} as period_end_at,
    _dlt_load_id

from lines
