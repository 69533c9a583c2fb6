{%- set src = source('raw_erp', 'sales_credit_memos') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as erp_credit_memo_id,
    number as erp_credit_memo_number,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'external_document_number', dbt.type_string())) }} as external_document_number,
    -- posted from billing: the external document number is the Stripe credit note id
    case
        when substring({{ syncline.column_or_null(cols, 'external_document_number', dbt.type_string()) }}, 1, 3) = 'cn_'
            then trim(external_document_number)
    end as billing_credit_note_id,
    nullif({{ syncline.column_or_null(cols, 'invoice_id', dbt.type_string()) }}, '00000000-0000-0000-0000-000000000000') as erp_invoice_id,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'invoice_number', dbt.type_string())) }} as erp_invoice_number,
    customer_id as erp_customer_id,
    upper(trim(customer_number)) as erp_customer_number,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'customer_name', dbt.type_string())) }} as customer_name,
    nullif({{ syncline.column_or_null(cols, 'bill_to_customer_id', dbt.type_string()) }}, '00000000-0000-0000-0000-000000000000') as bill_to_erp_customer_id,
    coalesce(
        {{ syncline.currency_code(syncline.column_or_null(cols, 'currency_code', dbt.type_string())) }},
        '{{ var("erp_local_currency_code") }}'
    ) as currency_code,
    lower(replace(status, ' ', '_')) as status,
    cast({{ syncline.column_or_null(cols, 'credit_memo_date', 'date') }} as date) as credit_memo_date,
    cast(posting_date as date) as posting_date,
    cast({{ syncline.column_or_null(cols, 'due_date', 'date') }} as date) as due_date,
    coalesce({{ syncline.column_or_null(cols, 'prices_include_tax', 'boolean') }}, false) as prices_include_tax,
    cast(coalesce({{ syncline.column_or_null(cols, 'discount_amount', 'decimal(18, 2)') }}, 0) as {{ syncline.money_type() }}) as discount_amount,
    cast(total_amount_excluding_tax as {{ syncline.money_type() }}) as amount_excluding_tax,
    cast(total_tax_amount as {{ syncline.money_type() }}) as tax_amount,
    cast(total_amount_including_tax as {{ syncline.money_type() }}) as amount_including_tax,
    {{ syncline.column_or_null(cols, 'odata_etag', dbt.type_string()) }} as odata_etag,
    {{ syncline.utc_timestamp(cols, 'last_modified_date_time') }} as last_modified_at,
    _dlt_load_id

from source
