{{
    config(
        materialized='incremental',
        unique_key='party_record_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ syncline.delete_unlisted('party_record_id', [
            ('billing', 'billing_customer_id', ref('stg_billing__customers'), 'is_deleted'),
            ('crm', 'crm_company_id', ref('stg_crm__companies'), 'is_archived'),
        ]) }}"
    )
}}
{#
  One row per company-like party record in every system, in the identity matcher's input contract
  (identity/schema.py: source_system, source_id, name, ..., tax_id, party_type). The Python identity
  step reads it between the dbt layers and writes identity.party_matches. Light cleaning only
  (trimmed text, ISO country codes, host-name domains): the matcher normalises for comparison itself.
  Columns after `party_type` are context for the marts; the matcher ignores them.
  Incremental on the dlt load id (last_dlt_load): records (re)loaded since the last build, and billing
  customers with new customer.* events, are rebuilt; the post-hook removes deleted billing customers
  and archived CRM companies.
#}

{%- set load = syncline.dlt_load_id_value() %}

with

{%- if is_incremental() %}

billing_changed as (

    select billing_customer_id from {{ ref('stg_billing__customers') }}
    where {{ syncline.new_dlt_loads_only(this_column='last_dlt_load') }}
    union
    select object_id from {{ ref('stg_billing__events') }}
    where object_type = 'customer' and {{ syncline.new_dlt_loads_only(this_column='last_dlt_load') }}

),
{%- endif %}

billing_customer_activity as (

    -- Stripe customers carry no `updated`: the newest customer.* event is the last change we know of
    select object_id as billing_customer_id, max(created_at) as last_event_at, max({{ load }}) as last_event_load
    from {{ ref('stg_billing__events') }}
    where object_type = 'customer'
    {%- if is_incremental() %}
        and object_id in (select billing_customer_id from billing_changed)
    {%- endif %}
    group by object_id

),

billing as (

    select
        'billing' as source_system,
        customers.billing_customer_id as source_id,
        customers.customer_name as name,
        customers.email,
        customers.phone,
        cast(null as {{ dbt.type_string() }}) as domain,
        customers.address_line1,
        customers.address_line2,
        customers.city,
        customers.postal_code,
        customers.region,
        customers.country_code as country,
        customers.tax_id,
        customers.erp_customer_number,
        customers.billing_customer_id,
        customers.currency_code,
        customers.created_at as source_created_at,
        coalesce(greatest(customers.created_at, activity.last_event_at), customers.created_at) as source_updated_at,
        coalesce(greatest({{ syncline.dlt_load_id_value('customers._dlt_load_id') }}, activity.last_event_load), {{ syncline.dlt_load_id_value('customers._dlt_load_id') }}) as last_dlt_load
    from {{ ref('stg_billing__customers') }} as customers
    left join billing_customer_activity as activity
        on activity.billing_customer_id = customers.billing_customer_id
    where not customers.is_deleted
    {%- if is_incremental() %}
        and customers.billing_customer_id in (select billing_customer_id from billing_changed)
    {%- endif %}

),

crm as (

    select
        'crm' as source_system,
        crm_company_id as source_id,
        company_name as name,
        cast(null as {{ dbt.type_string() }}) as email,
        phone,
        domain,
        address_line1,
        address_line2,
        city,
        postal_code,
        region,
        country_code as country,
        tax_id,
        erp_customer_number,
        billing_customer_id,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        created_at as source_created_at,
        updated_at as source_updated_at,
        {{ load }} as last_dlt_load
    from {{ ref('stg_crm__companies') }}
    where not is_archived
        and {{ syncline.new_dlt_loads_only(this_column='last_dlt_load') }}

),

erp as (

    select
        'erp' as source_system,
        erp_customer_id as source_id,
        customer_name as name,
        email,
        phone,
        domain,
        address_line1,
        address_line2,
        city,
        postal_code,
        region,
        country_code as country,
        tax_id,
        erp_customer_number,
        cast(null as {{ dbt.type_string() }}) as billing_customer_id,
        currency_code,
        cast(null as timestamp) as source_created_at,
        last_modified_at as source_updated_at,
        {{ load }} as last_dlt_load
    from {{ ref('stg_erp__customers') }}
    where {{ syncline.new_dlt_loads_only(this_column='last_dlt_load') }}

),

support as (

    select
        'support' as source_system,
        cast(support_organization_id as {{ dbt.type_string() }}) as source_id,
        organization_name as name,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as phone,
        domain,
        -- agents type "<street>, <city>" into the free-text details
        details_address_line1 as address_line1,
        cast(null as {{ dbt.type_string() }}) as address_line2,
        details_city as city,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as region,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_string() }}) as tax_id,
        erp_customer_number,
        billing_customer_id,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        created_at as source_created_at,
        updated_at as source_updated_at,
        {{ load }} as last_dlt_load
    from {{ ref('stg_support__organizations') }}
    where {{ syncline.new_dlt_loads_only(this_column='last_dlt_load') }}

),

unioned as (

    select * from billing
    union all
    select * from crm
    union all
    select * from erp
    union all
    select * from support

)

select
    {{ dbt.concat(['source_system', "':'", 'source_id']) }} as party_record_id,
    source_system,
    source_id,
    name,
    cast(null as {{ dbt.type_string() }}) as first_name,
    cast(null as {{ dbt.type_string() }}) as last_name,
    email,
    phone,
    domain,
    address_line1,
    address_line2,
    city,
    postal_code,
    region,
    country,
    tax_id,
    cast(null as date) as date_of_birth,
    'organization' as party_type,
    erp_customer_number,
    billing_customer_id,
    currency_code,
    source_created_at,
    source_updated_at,
    last_dlt_load
from unioned
