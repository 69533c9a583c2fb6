{#
  Every explicit reference one system keeps to another system's customer record, resolved to the
  target record when it exists: the Stripe customer's metadata.erp_customer_no, the CRM company's
  erp_customer_number and billing_customer_id properties, the Zendesk organization's external_id
  (the Stripe customer id) and organization_fields.erp_customer_number. Unresolved references
  (typos, deleted or never-created targets) stay with is_resolved = false for the reconciliation marts.
#}

with parties as (

    select source_system, source_id, erp_customer_number, billing_customer_id
    from {{ ref('int_party_records') }}

),

erp_customers as (

    select source_id, erp_customer_number
    from parties
    where source_system = 'erp'

),

billing_customers as (

    select source_id
    from parties
    where source_system = 'billing'

),

claims as (

    select
        source_system,
        source_id,
        {{ dbt.concat(['source_system', "'.erp_customer_number'"]) }} as reference_type,
        'erp' as target_system,
        erp_customer_number as reference_value
    from parties
    where source_system in ('billing', 'crm', 'support')
        and erp_customer_number is not null

    union all

    select
        source_system,
        source_id,
        {{ dbt.concat(['source_system', "'.billing_customer_id'"]) }} as reference_type,
        'billing' as target_system,
        billing_customer_id as reference_value
    from parties
    where source_system in ('crm', 'support')
        and billing_customer_id is not null

),

resolved as (

    select
        claims.*,
        case claims.target_system
            when 'erp' then erp_customers.source_id
            when 'billing' then billing_customers.source_id
        end as target_source_id
    from claims
    left join erp_customers
        on claims.target_system = 'erp'
        and erp_customers.erp_customer_number = claims.reference_value
    left join billing_customers
        on claims.target_system = 'billing'
        and billing_customers.source_id = claims.reference_value

)

select
    {{ dbt.concat(['source_system', "':'", 'source_id', "':'", 'reference_type']) }} as party_reference_id,
    source_system,
    source_id,
    {{ dbt.concat(['source_system', "':'", 'source_id']) }} as party_record_id,
    reference_type,
    target_system,
    reference_value,
    target_source_id,
    case when target_source_id is not null
        then {{ dbt.concat(['target_system', "':'", 'target_source_id']) }}
    end as target_party_record_id,
    target_source_id is not null as is_resolved
from resolved
