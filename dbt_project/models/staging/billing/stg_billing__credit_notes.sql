{%- set src = source('raw_billing', 'credit_notes') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as credit_note_id,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'number', dbt.type_string())) }} as credit_note_number,
    customer as billing_customer_id,
    invoice as invoice_id,
    lower(status) as status,
    -- pre_payment (reduces what is due) or post_payment (refund / customer balance)
    {{ syncline.clean_text(syncline.column_or_null(cols, 'type', dbt.type_string())) }} as credit_note_type,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'reason', dbt.type_string())) }} as reason,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'memo', dbt.type_string())) }} as memo,
    {{ syncline.currency_code('currency') }} as currency_code,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'subtotal', 'bigint') ~ ', total)', 'currency') }} as subtotal,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'discount_amount', 'bigint') ~ ', 0)', 'currency') }} as discount_amount,
    {{ syncline.minor_to_major('coalesce(' ~ syncline.column_or_null(cols, 'total_excluding_tax', 'bigint') ~ ', total)', 'currency') }} as total_excluding_tax,
    {{ syncline.minor_to_major('total - coalesce(' ~ syncline.column_or_null(cols, 'total_excluding_tax', 'bigint') ~ ', total)', 'currency') }} as tax_amount,
    {{ syncline.minor_to_major('total', 'currency') }} as total_amount,
    {{ syncline.minor_to_major('amount', 'currency') }} as amount,
    {{ syncline.json_text_or_null(cols, 'lines', ['data', 0, 'invoice_line_item']) }} as first_invoice_line_id,
    -- set by Syncline on credit notes it creates for ERP credit memos (sync_billing_credit_notes)
    {{ syncline.json_text_or_null(cols, 'metadata', ['erp_document_number']) }} as erp_document_number,
    {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
    {{ syncline.utc_timestamp(cols, 'effective_at') }} as effective_at,
    {{ syncline.utc_timestamp(cols, 'voided_at') }} as voided_at,
    _dlt_load_id

from source
