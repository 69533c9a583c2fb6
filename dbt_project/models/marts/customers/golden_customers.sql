{#
  One row per golden customer: the surviving value of every customer field (survivorship in
  golden_customer_attributes, driven by the field_ownership seed), the system each value came from,
  and the customer's record id in every system (the survivor when a system holds duplicates).
#}

{%- set text = dbt.type_string() -%}
{#- golden column -> field of the ownership seed (columns are the contract; the choice is the seed's) -#}
{%- set fields = [
    ('legal_name', 'legal_name'),
    ('display_name', 'display_name'),
    ('domain', 'domain'),
    ('tax_id', 'tax_id'),
    ('country_code', 'country'),
    ('phone', 'phone'),
    ('billing_email', 'billing_email'),
    ('account_owner', 'account_owner'),
    ('industry', 'industry'),
    ('lifecycle_status', 'lifecycle_status'),
    ('erp_customer_number', 'erp_customer_number'),
    ('credit_limit', 'credit_limit'),
    ('payment_terms', 'payment_terms'),
] -%}
{%- set address_parts = ['address_line1', 'address_line2', 'city', 'postal_code', 'region'] -%}
{%- set systems = [
    ('billing', 'billing_customer_id'),
    ('crm', 'crm_company_id'),
    ('erp', 'erp_customer_id'),
    ('support', 'support_organization_id'),
] -%}

with crosswalk as (

    select * from {{ ref('customer_crosswalk') }}

),

attributes as (

    select * from {{ ref('golden_customer_attributes') }}

),

billing_subscriptions as (

    select * from {{ ref('int_billing_customer_subscriptions') }}

),

members as (

    select
        golden_customer_id,
        {%- for system, id_column in systems %}
        max(case when source_system = '{{ system }}' and is_system_survivor then source_id end) as {{ id_column }},
        sum(case when source_system = '{{ system }}' then 1 else 0 end) as {{ system }}_record_count,
        {%- endfor %}
        count(*) as source_record_count,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from crosswalk
    group by golden_customer_id

),

-- a billing relationship = at least one subscription on one of the customer's billing records
-- (prospects have none); the outbound ERP sync only pushes customers that have one
billing_relationship as (

    select
        crosswalk.golden_customer_id,
        max(case when billing_subscriptions.subscription_count > 0 then 1 else 0 end) = 1 as has_billing_relationship
    from crosswalk
    inner join billing_subscriptions
        on billing_subscriptions.billing_customer_id = crosswalk.source_id
    where crosswalk.source_system = 'billing'
    group by crosswalk.golden_customer_id

),

-- currency is not an owned field: the billing survivor's, else the ERP survivor's
currencies as (

    select
        golden_customer_id,
        coalesce(
            max(case when source_system = 'billing' and is_system_survivor then currency_code end),
            max(case when source_system = 'erp' and is_system_survivor then currency_code end)
        ) as currency_code
    from crosswalk
    group by golden_customer_id

),

pivoted as (

    select
        golden_customer_id,
        {%- for column, field in fields %}
        max(case when field = '{{ field }}' then value end) as {{ column }},
        max(case when field = '{{ field }}' then source_system end) as {{ field }}_source,
        {%- endfor %}
        {%- for part in address_parts %}
        max(case when field = 'address' then {{ part }} end) as {{ part }},
        {%- endfor %}
        max(case when field = 'address' then source_system end) as address_source,
        max(case when field = 'address' then party_record_id end) as address_party_record_id
    from attributes
    group by golden_customer_id

)

select
    members.golden_customer_id,
    pivoted.legal_name,
    pivoted.display_name,
    pivoted.domain,
    pivoted.tax_id,
    pivoted.country_code,
    {%- for part in address_parts %}
    pivoted.{{ part }},
    {%- endfor %}
    pivoted.phone,
    pivoted.billing_email,
    pivoted.account_owner,
    pivoted.industry,
    coalesce(pivoted.lifecycle_status, 'prospect') as lifecycle_status,
    pivoted.erp_customer_number,
    cast(pivoted.credit_limit as numeric(18, 2)) as credit_limit,
    pivoted.payment_terms,
    currencies.currency_code,
    coalesce(billing_relationship.has_billing_relationship, false) as has_billing_relationship,
    {%- for system, id_column in systems %}
    members.{{ id_column }},
    {%- endfor %}
    {%- for system, id_column in systems %}
    cast(members.{{ system }}_record_count as bigint) as {{ system }}_record_count,
    {%- endfor %}
    cast(members.source_record_count as bigint) as source_record_count,
    {%- for column, field in fields %}
    pivoted.{{ field }}_source,
    {%- endfor %}
    pivoted.address_source,
    pivoted.address_party_record_id,
    members.first_seen_at,
    members.last_seen_at
from members
left join pivoted
    on pivoted.golden_customer_id = members.golden_customer_id
left join currencies
    on currencies.golden_customer_id = members.golden_customer_id
left join billing_relationship
    on billing_relationship.golden_customer_id = members.golden_customer_id
