{#
  One row per party record with every customer field of the ownership seed (entity = customer) that
  its system holds, as columns (NULL where the system does not hold the field), and a fingerprint of
  all of them. int_customer_attribute_candidates unpivots these rows; the fingerprint lets it, and
  golden_customer_attributes, rebuild only the records that changed since the last build.
  The records, their filters (deleted / archived) and their recency come from int_party_records, the
  identity step's input, so survivorship and matching see the same records; fields only survivorship
  uses (owner, industry, lifecycle, ERP terms) are joined from their staging model / subscription rollup.
  Support carries no address: agents type a loose "<street>, <city>" into free text.
#}

{%- set text = dbt.type_string() -%}
{%- set fields = syncline.customer_attribute_fields() -%}
{%- set address_parts = syncline.customer_address_parts() -%}
{%- set sources = [
    {
        'system': 'billing',
        'join': 'left join ' ~ ref('int_billing_customer_subscriptions') ~ ' as extra on extra.billing_customer_id = party.source_id',
        'fields': {
            'legal_name': 'party.name',
            'display_name': 'party.name',
            'tax_id': 'party.tax_id',
            'country': 'party.country',
            'phone': 'party.phone',
            'billing_email': 'party.email',
            'erp_customer_number': 'party.erp_customer_number',
            'lifecycle_status': 'extra.lifecycle_status',
        },
        'address': True,
    },
    {
        'system': 'crm',
        'join': 'inner join ' ~ ref('stg_crm__companies') ~ ' as extra on extra.crm_company_id = party.source_id',
        'fields': {
            'legal_name': 'party.name',
            'display_name': 'party.name',
            'domain': 'party.domain',
            'tax_id': 'party.tax_id',
            'country': 'party.country',
            'phone': 'party.phone',
            'account_owner': 'extra.owner_id',
            'industry': 'extra.industry',
            'erp_customer_number': 'party.erp_customer_number',
            'lifecycle_status': "case extra.lifecycle_stage when 'customer' then 'customer' when 'opportunity' then 'trial' when 'lead' then 'prospect' when 'subscriber' then 'prospect' when 'marketingqualifiedlead' then 'prospect' when 'salesqualifiedlead' then 'prospect' end",
        },
        'address': True,
    },
    {
        'system': 'erp',
        'join': 'inner join ' ~ ref('stg_erp__customers') ~ ' as extra on extra.erp_customer_id = party.source_id',
        'fields': {
            'legal_name': 'party.name',
            'display_name': 'party.name',
            'domain': 'party.domain',
            'tax_id': 'party.tax_id',
            'country': 'party.country',
            'phone': 'party.phone',
            'billing_email': 'party.email',
            'erp_customer_number': 'party.erp_customer_number',
            'credit_limit': 'extra.credit_limit',
            'payment_terms': 'extra.payment_terms_id',
        },
        'address': True,
    },
    {
        'system': 'support',
        'join': '',
        'fields': {
            'legal_name': 'party.name',
            'display_name': 'party.name',
            'domain': 'party.domain',
            'erp_customer_number': 'party.erp_customer_number',
        },
        'address': False,
    },
] -%}

with
{%- for source in sources %}

{{ source.system }}_records as (

    select
        party.party_record_id,
        party.source_system,
        party.source_id,
        {%- for field in fields %}
        cast({{ source.fields[field] if field in source.fields else 'null' }} as {{ text }}) as {{ field }},
        {%- endfor %}
        {%- for part in address_parts %}
        {%- set column = 'country' if part == 'country_code' else part %}
        cast({{ 'party.' ~ column if source.address else 'null' }} as {{ text }}) as {{ part }},
        {%- endfor %}
        party.source_updated_at
    from {{ ref('int_party_records') }} as party
    {{ source.join }}
    where party.source_system = '{{ source.system }}'

),
{%- endfor %}

unioned as (
{%- for source in sources %}

    select * from {{ source.system }}_records
    {{- '\n    union all' if not loop.last }}
{%- endfor %}

)

{#- NULL is marked apart from '' so that a value becoming empty changes the fingerprint #}
{%- set fingerprint_parts = [] %}
{%- for column in fields + address_parts + ['source_updated_at'] %}
    {%- do fingerprint_parts.append("coalesce(cast(" ~ column ~ " as " ~ text ~ "), '\\N')") %}
    {%- if not loop.last %}{% do fingerprint_parts.append("'|'") %}{% endif %}
{%- endfor %}

select
    unioned.*,
    -- the record's rows in int_customer_attribute_candidates (its address counts when line1 is known)
    {%- for column in fields + ['address_line1'] %}
    (case when {{ column }} is not null then 1 else 0 end){{ ' +' if not loop.last else ' as populated_field_count,' }}
    {%- endfor %}
    {{ dbt.hash(dbt.concat(fingerprint_parts)) }} as attributes_fingerprint
from unioned
