{#
  Business Central posted sales documents: salesInvoices and salesCreditMemos share one shape, and so do
  their lines. These macros are the staging models of both kinds; `kind` is 'invoice' or 'credit_memo'
  and names the id columns (erp_invoice_id / erp_credit_memo_id, erp_invoice_line_id / ...).

    invoice       billing id from an external document number starting 'in_' (billing_invoice_id),
                  invoice_date, remaining_amount
    credit_memo   billing id from 'cn_' (billing_credit_note_id), the credited invoice
                  (erp_invoice_id, erp_invoice_number), credit_memo_date
#}

{% macro erp_sales_document(src, kind) -%}
    {%- set kinds = {
        'invoice': {'billing_prefix': 'in_', 'billing_id': 'billing_invoice_id', 'document_date': 'invoice_date'},
        'credit_memo': {'billing_prefix': 'cn_', 'billing_id': 'billing_credit_note_id', 'document_date': 'credit_memo_date'},
    } -%}
    {%- if kind not in kinds -%}
        {{ exceptions.raise_compiler_error("erp_sales_document: kind must be 'invoice' or 'credit_memo', not '" ~ kind ~ "'") }}
    {%- endif -%}
    {%- set spec = kinds[kind] -%}
    {%- set cols = syncline.relation_columns(src) -%}
    {%- set external_document_number = syncline.column_or_null(cols, 'external_document_number', dbt.type_string()) -%}
with source as (

    select * from {{ src }}

)

select
    id as erp_{{ kind }}_id,
    number as erp_{{ kind }}_number,
    {{ syncline.clean_text(external_document_number) }} as external_document_number,
    -- posted from billing: the external document number is the Stripe invoice / credit note id
    case
        when substring({{ external_document_number }}, 1, 3) = '{{ spec.billing_prefix }}'
            then trim(external_document_number)
    end as {{ spec.billing_id }},
    {%- if kind == 'credit_memo' %}
    {{ syncline.erp_guid_or_null(cols, 'invoice_id') }} as erp_invoice_id,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'invoice_number', dbt.type_string())) }} as erp_invoice_number,
    {%- endif %}
    customer_id as erp_customer_id,
    upper(trim(customer_number)) as erp_customer_number,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'customer_name', dbt.type_string())) }} as customer_name,
    {{ syncline.erp_guid_or_null(cols, 'bill_to_customer_id') }} as bill_to_erp_customer_id,
    coalesce(
        {{ syncline.currency_code(syncline.column_or_null(cols, 'currency_code', dbt.type_string())) }},
        '{{ var("erp_local_currency_code") }}'
    ) as currency_code,
    lower(replace(status, ' ', '_')) as status,
    cast({{ syncline.column_or_null(cols, spec.document_date, 'date') }} as date) as {{ spec.document_date }},
    cast(posting_date as date) as posting_date,
    cast({{ syncline.column_or_null(cols, 'due_date', 'date') }} as date) as due_date,
    coalesce({{ syncline.column_or_null(cols, 'prices_include_tax', 'boolean') }}, false) as prices_include_tax,
    cast(coalesce({{ syncline.column_or_null(cols, 'discount_amount', 'decimal(18, 2)') }}, 0) as {{ syncline.money_type() }}) as discount_amount,
    cast(total_amount_excluding_tax as {{ syncline.money_type() }}) as amount_excluding_tax,
    cast(total_tax_amount as {{ syncline.money_type() }}) as tax_amount,
    cast(total_amount_including_tax as {{ syncline.money_type() }}) as amount_including_tax,
    {%- if kind == 'invoice' %}
    cast({{ syncline.column_or_null(cols, 'remaining_amount', 'decimal(18, 2)') }} as {{ syncline.money_type() }}) as remaining_amount,
    {%- endif %}
    {{ syncline.column_or_null(cols, 'odata_etag', dbt.type_string()) }} as odata_etag,
    {{ syncline.utc_timestamp(cols, 'last_modified_date_time') }} as last_modified_at,
    _dlt_load_id

from source
{%- endmacro %}


{# The lines of a sales invoice or credit memo (salesInvoiceLines / salesCreditMemoLines). #}
{% macro erp_sales_document_lines(src, kind) -%}
    {%- if kind not in ('invoice', 'credit_memo') -%}
        {{ exceptions.raise_compiler_error("erp_sales_document_lines: kind must be 'invoice' or 'credit_memo', not '" ~ kind ~ "'") }}
    {%- endif -%}
    {%- set cols = syncline.relation_columns(src) -%}
with source as (

    select * from {{ src }}

)

select
    id as erp_{{ kind }}_line_id,
    document_id as erp_{{ kind }}_id,
    sequence as line_sequence,
    lower({{ syncline.clean_text(syncline.column_or_null(cols, 'line_type', dbt.type_string())) }}) as line_type,
    {{ syncline.erp_guid_or_null(cols, 'item_id') }} as item_id,
    {{ syncline.erp_guid_or_null(cols, 'account_id') }} as account_id,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'line_object_number', dbt.type_string())) }} as line_object_number,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'description', dbt.type_string())) }} as description,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'unit_of_measure_code', dbt.type_string())) }} as unit_of_measure_code,
    cast(quantity as decimal(18, 4)) as quantity,
    cast(unit_price as {{ syncline.money_type() }}) as unit_price,
    cast(coalesce({{ syncline.column_or_null(cols, 'discount_amount', 'decimal(18, 2)') }}, 0) as {{ syncline.money_type() }}) as discount_amount,
    cast({{ syncline.column_or_null(cols, 'discount_percent', 'decimal(9, 4)') }} as decimal(9, 4)) as discount_percent,
    cast(amount_excluding_tax as {{ syncline.money_type() }}) as amount_excluding_tax,
    {{ syncline.clean_text(syncline.column_or_null(cols, 'tax_code', dbt.type_string())) }} as tax_code,
    cast({{ syncline.column_or_null(cols, 'tax_percent', 'decimal(9, 4)') }} as decimal(9, 4)) as tax_percent,
    cast({{ syncline.column_or_null(cols, 'total_tax_amount', 'decimal(18, 2)') }} as {{ syncline.money_type() }}) as tax_amount,
    cast(amount_including_tax as {{ syncline.money_type() }}) as amount_including_tax,
    _dlt_load_id

from source
{%- endmacro %}


{# A GUID column that may be absent; BC's empty GUID (all zeros) becomes NULL. #}
{% macro erp_guid_or_null(columns, name) -%}
    nullif({{ syncline.column_or_null(columns, name, dbt.type_string()) }}, '00000000-0000-0000-0000-000000000000')
{%- endmacro %}
