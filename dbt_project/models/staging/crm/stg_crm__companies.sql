{%- set src = source('raw_crm', 'companies') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

),

countries as (

    select country_key, country_code from {{ ref('country_codes') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as crm_company_id,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'name', dbt.type_string())) }} as company_name,
        {{ syncline.normalize_domain(syncline.column_or_null(cols, 'domain', dbt.type_string())) }} as domain,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'website', dbt.type_string())) }} as website,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'phone', dbt.type_string())) }} as phone,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'address', dbt.type_string())) }} as address_line1,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'address2', dbt.type_string())) }} as address_line2,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'city', dbt.type_string())) }} as city,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'zip', dbt.type_string())) }} as postal_code,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'state', dbt.type_string())) }} as region,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'country', dbt.type_string())) }} as country_raw,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'industry', dbt.type_string())) }} as industry,
        {{ dbt.safe_cast(syncline.clean_text(syncline.column_or_null(cols, 'numberofemployees', dbt.type_string())), 'bigint') }} as employee_count,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'description', dbt.type_string())) }} as description,
        lower({{ syncline.clean_text(syncline.column_or_null(cols, 'lifecyclestage', dbt.type_string())) }}) as lifecycle_stage,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'hubspot_owner_id', dbt.type_string())) }} as owner_id,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'hs_parent_company_id', dbt.type_string())) }} as parent_crm_company_id,
        -- custom properties: the cross-system references sales keeps on the company
        upper({{ syncline.clean_text(syncline.column_or_null(cols, 'erp_customer_number', dbt.type_string())) }}) as erp_customer_number,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'billing_customer_id', dbt.type_string())) }} as billing_customer_id,
        upper({{ syncline.clean_text(syncline.column_or_null(cols, 'vat_number', dbt.type_string())) }}) as tax_id,
        coalesce({{ syncline.column_or_null(cols, 'archived', 'boolean') }}, false) as is_archived,
        coalesce({{ syncline.utc_timestamp(cols, 'createdate') }}, {{ syncline.utc_timestamp(cols, 'created_at') }}) as created_at,
        coalesce({{ syncline.utc_timestamp(cols, 'hs_lastmodifieddate') }}, {{ syncline.utc_timestamp(cols, 'updated_at') }}) as updated_at,
        _dlt_load_id

    from source

)

select
    renamed.crm_company_id,
    renamed.company_name,
    renamed.domain,
    renamed.website,
    renamed.phone,
    renamed.address_line1,
    renamed.address_line2,
    renamed.city,
    renamed.postal_code,
    renamed.region,
    {{ syncline.resolved_country_code('countries.country_code', 'renamed.country_raw') }} as country_code,
    renamed.country_raw,
    renamed.industry,
    renamed.employee_count,
    renamed.description,
    renamed.lifecycle_stage,
    renamed.owner_id,
    renamed.parent_crm_company_id,
    renamed.erp_customer_number,
    renamed.billing_customer_id,
    renamed.tax_id,
    renamed.is_archived,
    renamed.created_at,
    renamed.updated_at,
    renamed._dlt_load_id
from renamed
left join countries
    on countries.country_key = {{ syncline.country_key('renamed.country_raw') }}
