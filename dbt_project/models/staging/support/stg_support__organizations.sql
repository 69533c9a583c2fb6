{%- set src = source('raw_support', 'organizations') -%}
{%- set cols = syncline.relation_columns(src) -%}

with source as (

    select * from {{ src }}

),

renamed as (

    select
        id as support_organization_id,
        {{ syncline.clean_text('name') }} as organization_name,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'external_id', dbt.type_string())) }} as external_id,
        {{ syncline.normalize_domain(syncline.json_text_or_null(cols, 'domain_names', [0])) }} as domain,
        {{ syncline.json_as_text(syncline.column_or_null(cols, 'domain_names', dbt.type_string())) }} as domain_names,
        {{ syncline.json_array_length_or_zero(cols, 'domain_names') }} as domain_count,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'details', dbt.type_string())) }} as details,
        {{ syncline.clean_text(syncline.column_or_null(cols, 'notes', dbt.type_string())) }} as notes,
        {{ syncline.column_or_null(cols, 'group_id', 'bigint') }} as group_id,
        {{ syncline.json_as_text(syncline.column_or_null(cols, 'tags', dbt.type_string())) }} as tags,
        {{ syncline.column_or_null(cols, 'shared_tickets', 'boolean') }} as is_shared_tickets,

        -- organization_fields: the custom data the integrations keep in sync
        lower({{ syncline.clean_text(syncline.json_text_or_null(cols, 'organization_fields', 'plan')) }}) as plan_code,
        lower({{ syncline.clean_text(syncline.json_text_or_null(cols, 'organization_fields', 'support_entitlement')) }}) as support_entitlement,
        {{ syncline.clean_text(syncline.json_text_or_null(cols, 'organization_fields', 'sla_policy')) }} as sla_policy,
        upper({{ syncline.clean_text(syncline.json_text_or_null(cols, 'organization_fields', 'erp_customer_number')) }}) as erp_customer_number,
        {{ dbt.safe_cast(syncline.json_text_or_null(cols, 'organization_fields', 'seats'), 'bigint') }} as seats,
        {{ syncline.json_as_text(syncline.column_or_null(cols, 'organization_fields', dbt.type_string())) }} as organization_fields,

        {{ syncline.utc_timestamp(cols, 'created_at') }} as created_at,
        {{ syncline.utc_timestamp(cols, 'updated_at') }} as updated_at,
        _dlt_load_id

    from source

)

select
    *,
    -- the billing integration writes the Stripe customer id into external_id
    case when substring(external_id, 1, 4) = 'cus_' then external_id end as billing_customer_id,
    -- `details` often holds the address as "<street>, <city>" (free text, typed by agents)
    {{ syncline.regexp_group('details', '^(.+),\\s*([^,0-9]+)$', 1) }} as details_address_line1,
    {{ syncline.regexp_group('details', '^(.+),\\s*([^,0-9]+)$', 2) }} as details_city
from renamed
