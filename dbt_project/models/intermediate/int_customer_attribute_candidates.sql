{#
  Survivorship input for the golden customer: one row per (party record, customer field) holding a
  value, in the field vocabulary of the field ownership seed (entity = customer). ownership_rank says
  how the ownership table ranks the record's system for the field: 0 = the owner, 1.. = the position
  in fallback_order, NULL = the system is not a source for the field. The marts pick per golden id
  and field the lowest rank, then the most recent source_updated_at, then completeness.
  The address parts of a field = 'address' row win together (address_line1 .. country_code).
#}

{%- set text = dbt.type_string() -%}
{%- set sources = [
    {
        'system': 'billing',
        'relation': ref('stg_billing__customers'),
        'id': 'billing_customer_id',
        'updated': 'coalesce(greatest(base.created_at, lifecycle.last_event_at), base.created_at)',
        'where': 'not base.is_deleted',
        'fields': [
            ('legal_name', 'base.customer_name'),
            ('display_name', 'base.customer_name'),
            ('tax_id', 'base.tax_id'),
            ('country', 'base.country_code'),
            ('phone', 'base.phone'),
            ('billing_email', 'base.email'),
            ('erp_customer_number', 'base.erp_customer_number'),
            ('lifecycle_status', 'lifecycle.lifecycle_status'),
        ],
        'address': True,
    },
    {
        'system': 'crm',
        'relation': ref('stg_crm__companies'),
        'id': 'crm_company_id',
        'updated': 'base.updated_at',
        'where': 'not base.is_archived',
        'fields': [
            ('legal_name', 'base.company_name'),
            ('display_name', 'base.company_name'),
            ('domain', 'base.domain'),
            ('tax_id', 'base.tax_id'),
            ('country', 'base.country_code'),
            ('phone', 'base.phone'),
            ('account_owner', 'base.owner_id'),
            ('industry', 'base.industry'),
            ('erp_customer_number', 'base.erp_customer_number'),
            ('lifecycle_status', "case base.lifecycle_stage when 'customer' then 'customer' when 'opportunity' then 'trial' when 'lead' then 'prospect' when 'subscriber' then 'prospect' when 'marketingqualifiedlead' then 'prospect' when 'salesqualifiedlead' then 'prospect' end"),
        ],
        'address': True,
    },
    {
        'system': 'erp',
        'relation': ref('stg_erp__customers'),
        'id': 'erp_customer_id',
        'updated': 'base.last_modified_at',
        'where': '1 = 1',
        'fields': [
            ('legal_name', 'base.customer_name'),
            ('display_name', 'base.customer_name'),
            ('domain', 'base.domain'),
            ('tax_id', 'base.tax_id'),
            ('country', 'base.country_code'),
            ('phone', 'base.phone'),
            ('billing_email', 'base.email'),
            ('erp_customer_number', 'base.erp_customer_number'),
            ('credit_limit', 'cast(base.credit_limit as ' ~ text ~ ')'),
            ('payment_terms', 'base.payment_terms_id'),
        ],
        'address': True,
    },
    {
        'system': 'support',
        'relation': ref('stg_support__organizations'),
        'id': 'support_organization_id',
        'updated': 'base.updated_at',
        'where': '1 = 1',
        'fields': [
            ('legal_name', 'base.organization_name'),
            ('display_name', 'base.organization_name'),
            ('domain', 'base.domain'),
            ('erp_customer_number', 'base.erp_customer_number'),
        ],
        'address': False,
    },
] -%}

with billing_events as (

    select object_id as billing_customer_id, max(created_at) as last_event_at
    from {{ ref('stg_billing__events') }}
    where object_type = 'customer'
    group by object_id

),

lifecycle as (

    select
        subscriptions.billing_customer_id,
        subscriptions.lifecycle_status,
        billing_events.last_event_at
    from {{ ref('int_billing_customer_subscriptions') }} as subscriptions
    left join billing_events
        on billing_events.billing_customer_id = subscriptions.billing_customer_id

),

ownership as (

    select field, owner_system, coalesce(fallback_order, '') as fallback_order
    from {{ ref('field_ownership') }}
    where entity = 'customer'

),

{#- One scan per source: its records with every field as a column, unpivoted by a cross join with the
    field names (portable: VALUES works on DuckDB and PostgreSQL), instead of a scan per field. #}
{%- for source in sources %}

{{ source.system }}_records as (

    select
        cast(base.{{ source.id }} as {{ text }}) as source_id,
        {%- for field, expression in source.fields %}
        cast({{ expression }} as {{ text }}) as {{ field }},
        {%- endfor %}
        {%- if source.address %}
        base.address_line1,
        base.address_line2,
        base.city,
        base.postal_code,
        base.region,
        base.country_code,
        {%- endif %}
        {{ source.updated }} as source_updated_at
    from {{ source.relation }} as base
    {%- if source.system == 'billing' %}
    left join lifecycle
        on lifecycle.billing_customer_id = base.billing_customer_id
    {%- endif %}
    where {{ source.where }}

),
{%- endfor %}

candidates as (
{%- for source in sources %}
    {%- set fields = source.fields | map('first') | list + (['address'] if source.address else []) %}

    select
        '{{ source.system }}' as source_system,
        records.source_id,
        field_names.field,
        case field_names.field
            {%- for field, _ in source.fields %}
            when '{{ field }}' then records.{{ field }}
            {%- endfor %}
            {%- if source.address %}
            when 'address' then {{ dbt.concat([
                'records.address_line1',
                "coalesce(', ' || records.address_line2, '')",
                "coalesce(', ' || records.postal_code, '')",
                "coalesce(', ' || records.city, '')",
                "coalesce(', ' || records.region, '')",
                "coalesce(', ' || records.country_code, '')",
            ]) }}
            {%- endif %}
        end as value,
        {%- for part in ['address_line1', 'address_line2', 'city', 'postal_code', 'region', 'country_code'] %}
        {%- if source.address %}
        case when field_names.field = 'address' then records.{{ part }} end as {{ part }},
        {%- else %}
        cast(null as {{ text }}) as {{ part }},
        {%- endif %}
        {%- endfor %}
        records.source_updated_at
    from {{ source.system }}_records as records
    cross join (values {% for field in fields %}('{{ field }}'){{ ', ' if not loop.last }}{% endfor %}) as field_names (field)
    {{- '\n\n    union all' if not loop.last }}
{%- endfor %}

)

select
    {{ dbt.concat(['candidates.source_system', "':'", 'candidates.source_id', "':'", 'candidates.field']) }} as candidate_id,
    {{ dbt.concat(['candidates.source_system', "':'", 'candidates.source_id']) }} as party_record_id,
    candidates.source_system,
    candidates.source_id,
    candidates.field,
    candidates.value,
    case
        when ownership.owner_system = candidates.source_system then 0
        {%- for position in range(1, 5) %}
        when {{ dbt.split_part('ownership.fallback_order', "'|'", position) }} = candidates.source_system then {{ position }}
        {%- endfor %}
    end as ownership_rank,
    ownership.owner_system,
    candidates.address_line1,
    candidates.address_line2,
    candidates.city,
    candidates.postal_code,
    candidates.region,
    candidates.country_code,
    candidates.source_updated_at
from candidates
left join ownership
    on ownership.field = candidates.field
where candidates.value is not null
