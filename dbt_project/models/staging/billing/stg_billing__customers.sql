{%- set src = source('raw_billing', 'customers') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

),

countries as (

    select country_key, country_code from {{ ref('country_codes') }}

),

renamed as (

    select
        id as billing_customer_id,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'name', dbt.type_string())) }} as customer_name,
        {{ syncline.clean_email(syncline.column_or_null(cols, 'email', dbt.type_string())) }} as email,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'phone', dbt.type_string())) }} as phone,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'description', dbt.type_string())) }} as description,
        {{ syncline.clean_text(syncline.json_text_or_null(cols, 'address', 'line1')) }} as address_line1,
        {{ syncline.clean_text(syncline.json_text_or_null(cols, 'address', 'line2')) }} as address_line2,
        {{ syncline.clean_text(syncline.json_text_or_null(cols, 'address', 'city')) }} as city,
        {{ syncline.clean_text(syncline.json_text_or_null(cols, 'address', 'postal_code')) }} as postal_code,
        {{ syncline.clean_text(syncline.json_text_or_null(cols, 'address', 'state')) }} as region,
        {{ syncline.clean_text(syncline.json_text_or_null(cols, 'address', 'country')) }} as country_raw,
        {{ syncline.currency_code(syncline.column_or_null(cols, 'currency', dbt.type_string())) }} as currency_code,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'tax_exempt', dbt.type_string())) }} as tax_exempt,
        -- metadata written by finance / the integrations
        upper({{ syncline.clean_text(syncline.json_text_or_null(cols, 'metadata', 'erp_customer_no')) }}) as erp_customer_number,
        upper({{ syncline.clean_text(syncline.json_text_or_null(cols, 'metadata', 'vat_id')) }}) as tax_id,
        {{ syncline.json_as_text(syncline.column_or_null(cols, 'metadata', dbt.type_string())) }} as metadata,
        {{ syncline.column_or_null(cols, 'balance', 'bigint') }} as balance_minor,
        coalesce({{ syncline.column_or_null(cols, 'delinquent', 'boolean') }}, false) as is_delinquent,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'invoice_prefix', dbt.type_string())) }} as invoice_prefix,
        coalesce({{ syncline.column_or_null(cols, 'deleted', 'boolean') }}, false) as is_deleted,
        coalesce({{ syncline.column_or_null(cols, 'livemode', 'boolean') }}, false) as is_livemode,
        {{ syncline.utc_timestamp(cols, 'created') }} as created_at,
        _dlt_load_id

    from source

)

select
    renamed.billing_customer_id,
    renamed.customer_name,
    renamed.email,
    {{ syncline.email_domain('renamed.email') }} as email_domain,
    renamed.phone,
    renamed.description,
    renamed.address_line1,
    renamed.address_line2,
    renamed.city,
    renamed.postal_code,
    renamed.region,
    {{ syncline.resolved_country_code('countries.country_code', 'renamed.country_raw') }} as country_code,
    renamed.currency_code,
    renamed.tax_exempt,
    renamed.erp_customer_number,
    renamed.tax_id,
    renamed.metadata,
    {{ syncline.minor_to_major('renamed.balance_minor', 'renamed.currency_code') }} as balance,
    renamed.is_delinquent,
    renamed.invoice_prefix,
    renamed.is_deleted,
    renamed.is_livemode,
    renamed.created_at,
    renamed._dlt_load_id
from renamed
left join countries
    on countries.country_key = {{ syncline.country_key('renamed.country_raw') }}
