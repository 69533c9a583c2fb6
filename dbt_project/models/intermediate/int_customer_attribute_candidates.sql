{#
  Survivorship input for the golden customer: one row per (party record, customer field) holding a
  value, in the field vocabulary of the field ownership seed (entity = customer). ownership_rank says
  how the ownership table ranks the record's system for the field: 0 = the owner, 1.. = the position
  in fallback_order, NULL = the system is not a source for the field. The marts pick per golden id
  and field the lowest rank, then the most recent source_updated_at, then completeness.
  The address parts of a field = 'address' row win together (address_line1 .. country_code).
#}

{#-
  The records, their filters (deleted / archived) and their recency come from int_party_records, the
  identity step's input, so survivorship and matching see the same records; fields only survivorship
  uses (owner, industry, lifecycle, ERP terms) are joined from their staging model / subscription rollup.
#}
{%- set text = dbt.type_string() -%}
{%- set sources = [
    {
        'system': 'billing',
        'join': 'left join ' ~ ref('int_billing_customer_subscriptions') ~ ' as extra on extra.billing_customer_id = party.source_id',
        'fields': [
            ('legal_name', 'party.name'),
            ('display_name', 'party.name'),
            ('tax_id', 'party.tax_id'),
            ('country', 'party.country'),
            ('phone', 'party.phone'),
            ('billing_email', 'party.email'),
            ('erp_customer_number', 'party.erp_customer_number'),
            ('lifecycle_status', 'extra.lifecycle_status'),
        ],
        'address': True,
    },
    {
        'system': 'crm',
        'join': 'inner join ' ~ ref('stg_crm__companies') ~ ' as extra on extra.crm_company_id = party.source_id',
        'fields': [
            ('legal_name', 'party.name'),
            ('display_name', 'party.name'),
            ('domain', 'party.domain'),
            ('tax_id', 'party.tax_id'),
            ('country', 'party.country'),
            ('phone', 'party.phone'),
            ('account_owner', 'extra.owner_id'),
            ('industry', 'extra.industry'),
            ('erp_customer_number', 'party.erp_customer_number'),
            ('lifecycle_status', "case extra.lifecycle_stage when 'customer' then 'customer' when 'opportunity' then 'trial' when 'lead' then 'prospect' when 'subscriber' then 'prospect' when 'marketingqualifiedlead' then 'prospect' when 'salesqualifiedlead' then 'prospect' end"),
        ],
        'address': True,
    },
    {
        'system': 'erp',
        'join': 'inner join ' ~ ref('stg_erp__customers') ~ ' as extra on extra.erp_customer_id = party.source_id',
        'fields': [
            ('legal_name', 'party.name'),
            ('display_name', 'party.name'),
            ('domain', 'party.domain'),
            ('tax_id', 'party.tax_id'),
            ('country', 'party.country'),
            ('phone', 'party.phone'),
            ('billing_email', 'party.email'),
            ('erp_customer_number', 'party.erp_customer_number'),
            ('credit_limit', 'cast(extra.credit_limit as ' ~ text ~ ')'),
            ('payment_terms', 'extra.payment_terms_id'),
        ],
        'address': True,
    },
    {
        'system': 'support',
        'join': '',
        'fields': [
            ('legal_name', 'party.name'),
            ('display_name', 'party.name'),
            ('domain', 'party.domain'),
            ('erp_customer_number', 'party.erp_customer_number'),
        ],
        'address': False,
    },
] -%}

with ownership as (

    select field, owner_system, coalesce(fallback_order, '') as fallback_order
    from {{ ref('field_ownership') }}
    where entity = 'customer'

),

{#- One scan per source: its records with every field as a column, unpivoted by a cross join with the
    field names (portable: VALUES works on DuckDB and PostgreSQL), instead of a scan per field. #}
{%- for source in sources %}

{{ source.system }}_records as (

    select
        party.source_id,
        {%- for field, expression in source.fields %}
        cast({{ expression }} as {{ text }}) as {{ field }},
        {%- endfor %}
        {%- if source.address %}
        party.address_line1,
        party.address_line2,
        party.city,
        party.postal_code,
        party.region,
        party.country as country_code,
        {%- endif %}
        party.source_updated_at
    from {{ ref('int_party_records') }} as party
    {{ source.join }}
    where party.source_system = '{{ source.system }}'

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
