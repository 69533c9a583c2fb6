{%- set src = source('raw_erp', 'customers') -%}
{%- set cols = syncline.relation_columns(src) -%}
{%- set zero_guid = "'00000000-0000-0000-0000-000000000000'" -%}

with source as (

    select * from {{ src }}

),

countries as (

    select country_key, country_code from {{ ref('country_codes') }}

),

renamed as (

    select
        id as erp_customer_id,
        upper(trim(number)) as erp_customer_number,
        {{ syncline.clean_text('display_name') }} as customer_name,
        lower({{ syncline.clean_text(syncline.column_or_null(cols, 'type', dbt.type_string())) }}) as customer_type,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'address_line1', dbt.type_string())) }} as address_line1,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'address_line2', dbt.type_string())) }} as address_line2,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'city', dbt.type_string())) }} as city,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'postal_code', dbt.type_string())) }} as postal_code,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'state', dbt.type_string())) }} as region,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'country', dbt.type_string())) }} as country_raw,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'phone_number', dbt.type_string())) }} as phone,
        {{ syncline.clean_email(syncline.column_or_null(cols, 'email', dbt.type_string())) }} as email,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'website', dbt.type_string())) }} as website,
        upper({{ syncline.clean_text(syncline.column_or_null(cols, 'tax_registration_number', dbt.type_string())) }}) as tax_id,
        coalesce({{ syncline.column_or_null(cols, 'tax_liable', 'boolean') }}, false) as is_tax_liable,
        -- '' means the company's local currency (LCY)
        {{ syncline.currency_code(syncline.column_or_null(cols, 'currency_code', dbt.type_string())) }} as currency_code_raw,
        cast({{ syncline.column_or_null(cols, 'credit_limit', 'decimal(18, 2)') }} as {{ syncline.money_type() }}) as credit_limit,
        cast({{ syncline.column_or_null(cols, 'balance_due', 'decimal(18, 2)') }} as {{ syncline.money_type() }}) as balance_due,
        nullif({{ syncline.column_or_null(cols, 'payment_terms_id', dbt.type_string()) }}, {{ zero_guid }}) as payment_terms_id,
        nullif({{ syncline.column_or_null(cols, 'payment_method_id', dbt.type_string()) }}, {{ zero_guid }}) as payment_method_id,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'salesperson_code', dbt.type_string())) }} as salesperson_code,
        -- ' ' (not blocked), 'Ship', 'Invoice' or 'All'
        {{ syncline.clean_text(syncline.column_or_null(cols, 'blocked', dbt.type_string())) }} as blocked,
        {{ syncline.column_or_null(cols, 'odata_etag', dbt.type_string()) }} as odata_etag,
        {{ syncline.utc_timestamp(cols, 'last_modified_date_time') }} as last_modified_at,
        _dlt_load_id

    from source

)

select
    renamed.erp_customer_id,
    renamed.erp_customer_number,
    renamed.customer_name,
    renamed.customer_type,
    renamed.address_line1,
    renamed.address_line2,
    renamed.city,
    renamed.postal_code,
    renamed.region,
    {{ syncline.resolved_country_code('countries.country_code', 'renamed.country_raw') }} as country_code,
    renamed.phone,
    renamed.email,
    {{ syncline.email_domain('renamed.email') }} as email_domain,
    renamed.website,
    {{ syncline.normalize_domain('renamed.website') }} as domain,
    renamed.tax_id,
    renamed.is_tax_liable,
    coalesce(renamed.currency_code_raw, '{{ var("erp_local_currency_code") }}') as currency_code,
    renamed.currency_code_raw is null as is_local_currency,
    renamed.credit_limit,
    renamed.balance_due,
    renamed.payment_terms_id,
    renamed.payment_method_id,
    renamed.salesperson_code,
    renamed.blocked,
    coalesce(renamed.blocked in ('Invoice', 'All'), false) as is_blocked,
    renamed.odata_etag,
    renamed.last_modified_at,
    renamed._dlt_load_id
from renamed
left join countries
    on countries.country_key = {{ syncline.country_key('renamed.country_raw') }}
