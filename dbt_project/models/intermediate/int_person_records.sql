{{
    config(
        materialized='incremental',
        unique_key='person_record_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ syncline.delete_unlisted('person_record_id', [
            ('crm', 'crm_contact_id', ref('stg_crm__contacts'), 'is_archived'),
            ('support', 'support_user_id', ref('stg_support__users'), 'is_staff'),
        ]) }}"
    )
}}
{#
  One row per person known to a system: HubSpot contacts and Zendesk end-users, with the
  organization record they belong to (the contact's primary company, the user's organization), so
  marts can list a golden customer's people through identity.party_matches of that organization.
  Same column names as int_party_records (party_type = 'person'); not fed to the identity step.
  Incremental on the dlt load id: people (re)loaded since the last build are rebuilt (a contact is
  re-read with its associations when it changes); the post-hook removes archived contacts and users
  who became staff.
#}

with contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    where {{ syncline.new_dlt_loads_only() }}

),

crm_company_of_contact as (

    -- a contact's primary company (HubSpot contact_to_company), else its first associated one
    select
        crm_contact_id,
        crm_company_id,
        row_number() over (
            partition by crm_contact_id order by case when is_primary then 0 else 1 end, crm_company_id
        ) as company_rank
    from {{ ref('stg_crm__contact_company_associations') }}
    {%- if is_incremental() %}
    where crm_contact_id in (select crm_contact_id from contacts)
    {%- endif %}

),

crm as (

    select
        'crm' as source_system,
        contacts.crm_contact_id as source_id,
        contacts.full_name as name,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.email_domain,
        contacts.phone,
        contacts.job_title,
        case when companies.crm_company_id is not null then 'crm' end as organization_source_system,
        companies.crm_company_id as organization_source_id,
        contacts.created_at as source_created_at,
        contacts.updated_at as source_updated_at,
        contacts._dlt_load_id
    from contacts
    left join crm_company_of_contact as companies
        on companies.crm_contact_id = contacts.crm_contact_id
        and companies.company_rank = 1
    where not contacts.is_archived

),

support as (

    select
        'support' as source_system,
        cast(support_user_id as {{ dbt.type_string() }}) as source_id,
        user_name as name,
        first_name,
        last_name,
        email,
        email_domain,
        phone,
        cast(null as {{ dbt.type_string() }}) as job_title,
        case when support_organization_id is not null then 'support' end as organization_source_system,
        cast(support_organization_id as {{ dbt.type_string() }}) as organization_source_id,
        created_at as source_created_at,
        updated_at as source_updated_at,
        _dlt_load_id
    from {{ ref('stg_support__users') }}
    where not is_staff
        and {{ syncline.new_dlt_loads_only() }}

),

unioned as (

    select * from crm
    union all
    select * from support

)

select
    {{ dbt.concat(['source_system', "':'", 'source_id']) }} as person_record_id,
    source_system,
    source_id,
    name,
    first_name,
    last_name,
    email,
    email_domain,
    phone,
    job_title,
    'person' as party_type,
    organization_source_system,
    organization_source_id,
    case when organization_source_id is not null
        then {{ dbt.concat(['organization_source_system', "':'", 'organization_source_id']) }}
    end as organization_party_record_id,
    source_created_at,
    source_updated_at,
    _dlt_load_id
from unioned
