{%- set src = source('raw_support', 'users') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

),

renamed as (

    select
        id as support_user_id,
        {{ syncline.clean_text('name') }} as user_name,
        {{ syncline.clean_email(syncline.column_or_null(cols, 'email', dbt.type_string())) }} as email,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'phone', dbt.type_string())) }} as phone,
        lower(role) as role,
        {{ syncline.column_or_null(cols, 'organization_id', 'bigint') }} as support_organization_id,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'external_id', dbt.type_string())) }} as external_id,
        coalesce({{ syncline.column_or_null(cols, 'active', 'boolean') }}, true) as is_active,
        coalesce({{ syncline.column_or_null(cols, 'suspended', 'boolean') }}, false) as is_suspended,
        {{ syncline.utc_timestamp(cols, 'created_at') }} as created_at,
        {{ syncline.utc_timestamp(cols, 'updated_at') }} as updated_at,
        {{ syncline.utc_timestamp(cols, 'last_login_at') }} as last_login_at,
        _dlt_load_id

    from source

)

select
    support_user_id,
    user_name,
    -- Zendesk keeps one display name; split at the first space for matching
    case when position(' ' in user_name) > 0
        then {{ syncline.regexp_group('user_name', '^([^ ]+) ', 1) }}
        else user_name end as first_name,
    {{ syncline.regexp_group('user_name', '^[^ ]+ +(.+)$', 1) }} as last_name,
    email,
    {{ syncline.email_domain('email') }} as email_domain,
    phone,
    role,
    role in ('agent', 'admin') as is_staff,
    support_organization_id,
    external_id,
    is_active,
    is_suspended,
    created_at,
    updated_at,
    last_login_at,
    _dlt_load_id
from renamed
