{%- set src = source('raw_erp', 'sales_invoice_lines') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

)

select
    id as erp_invoice_line_id,
    document_id as erp_invoice_id,
    sequence as line_sequence,
    lower({{ syncline.clean_text(syncline.column_or_null(cols, 'line_type', dbt.type_string())) }}) as line_type,
    nullif({{ syncline.column_or_null(cols, 'item_id', dbt.type_string()) }}, '00000000-0000-0000-0000-000000000000') as item_id,
    nullif({{ syncline.column_or_null(cols, 'account_id', dbt.type_string()) }}, '00000000-0000-0000-0000-000000000000') as account_id,
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
