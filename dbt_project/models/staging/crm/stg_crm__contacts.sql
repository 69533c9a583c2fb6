{%- set src = source('raw_crm', 'contacts') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as crm_contact_id,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'firstname', dbt.type_string())) }} as first_name,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'lastname', dbt.type_string())) }} as last_name,
        {{ syncline.clean_email(syncline.column_or_null(cols, 'email', dbt.type_string())) }} as email,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'phone', dbt.type_string())) }} as phone,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'jobtitle', dbt.type_string())) }} as job_title,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'company', dbt.type_string())) }} as company_name,
        lower({{ syncline.clean_text(syncline.column_or_null(cols, 'lifecyclestage', dbt.type_string())) }}) as lifecycle_stage,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'hubspot_owner_id', dbt.type_string())) }} as owner_id,
        coalesce({{ syncline.column_or_null(cols, 'archived', 'boolean') }}, false) as is_archived,
        coalesce({{ syncline.utc_timestamp(cols, 'createdate') }}, {{ syncline.utc_timestamp(cols, 'created_at') }}) as created_at,
        coalesce({{ syncline.utc_timestamp(cols, 'lastmodifieddate') }}, {{ syncline.utc_timestamp(cols, 'updated_at') }}) as updated_at,
        _dlt_load_id

    from source

)

select
    crm_contact_id,
    first_name,
    last_name,
    nullif(trim({{ dbt.concat(["coalesce(first_name, '')", "' '", "coalesce(last_name, '')"]) }}), '') as full_name,
    email,
    {{ syncline.email_domain('email') }} as email_domain,
    phone,
    job_title,
    company_name,
    lifecycle_stage,
    owner_id,
    is_archived,
    created_at,
    updated_at,
    _dlt_load_id
from renamed
