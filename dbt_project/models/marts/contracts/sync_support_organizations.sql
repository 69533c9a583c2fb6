{#
  Outbound desired state for Zendesk organizations (read by the reverse-ETL engine, which diffs
  record_hash against what it last wrote).

  One row per support organization of a golden customer that has a billing account (operation
  update or noop), plus one row per golden customer with a live contract and no organization yet
  (operation insert: POST create_or_update matching on external_id).

  The mapped field columns are generated from the seeds at compile time: a field gets a column only
  when `field_ownership.sync_targets` contains 'support'; `support_field_mapping` says where it goes
  in Zendesk. Fields whose Zendesk organization field is not defined (not in
  stg_support__organization_fields) are left NULL and never count as a change. Top-level attributes
  (name, domain_names) are unique per organization in Zendesk, so they go to the golden customer's
  primary organization only; duplicates keep theirs. Organizations of golden customers without any
  billing account are not synced: see entitlement_drift.is_linked_to_billing.
#}

{%- set text_type = dbt.type_string() -%}

{#- contract fields come from the golden customer's contracts; customer fields from golden_customers
    (its survivorship, driven by the same ownership seed); field -> column where the names differ -#}
{%- set golden_columns = {'country': 'country_code'} -%}
{%- set contract_values = {
    'plan': ('contract_summary.plan_code', text_type),
    'seats': ('contract_summary.live_seats', 'bigint'),
    'support_entitlement': ("coalesce(contract_summary.support_entitlement, 'none')", text_type),
    'sla_policy': ('sla_policies.sla_policy', text_type),
    'payment_status': ('contract_summary.payment_status', text_type),
    'renewal_date': ('cast(contract_summary.renewal_date as ' ~ text_type ~ ')', text_type),
} -%}

{%- set fields_query -%}
    select
        ownership.entity,
        ownership.field,
        mapping.sync_column,
        mapping.zendesk_attribute,
        mapping.write_mode
    from {{ syncline.fields_received_by('support') }} as ownership
    left join {{ ref('support_field_mapping') }} as mapping
        on mapping.entity = ownership.entity
        and mapping.field = ownership.field
    order by ownership.entity, ownership.field
{%- endset -%}

{%- set fields = [] -%}
{%- if execute -%}
    {%- for row in run_query(fields_query).rows -%}
        {%- if row['sync_column'] is none -%}
            {{ exceptions.raise_compiler_error("field_ownership lets " ~ row['entity'] ~ "." ~ row['field'] ~ " sync to support, but support_field_mapping has no row for it") }}
        {%- endif -%}
        {%- set attribute = row['zendesk_attribute'] -%}
        {%- if row['entity'] == 'contract' -%}
            {%- if row['field'] not in contract_values -%}
                {{ exceptions.raise_compiler_error("sync_support_organizations has no value for contract field " ~ row['field']) }}
            {%- endif -%}
            {%- set value, data_type = contract_values[row['field']] -%}
        {%- elif row['entity'] == 'customer' -%}
            {%- set value, data_type = 'golden_fields.' ~ golden_columns.get(row['field'], row['field']), text_type -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("unsupported entity " ~ row['entity'] ~ " for a support sync") }}
        {%- endif -%}
        {%- if attribute.startswith('organization_fields.') -%}
            {%- set kind = 'organization_field' -%}
        {%- elif attribute in ('name', 'domain_names') -%}
            {%- set kind = attribute -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("unsupported Zendesk attribute " ~ attribute) }}
        {%- endif -%}
        {#- lists (domain_names) are only ever added to; everything else is set -#}
        {%- if (kind == 'domain_names') != (row['write_mode'] == 'add') -%}
            {{ exceptions.raise_compiler_error("support_field_mapping: write_mode " ~ row['write_mode'] ~ " is not supported for " ~ attribute) }}
        {%- endif -%}
        {%- do fields.append({
            'entity': row['entity'],
            'field': row['field'],
            'column': row['sync_column'],
            'kind': kind,
            'key': attribute.replace('organization_fields.', ''),
            'value': value,
            'data_type': data_type,
        }) -%}
    {%- endfor -%}
{%- endif -%}
{%- set fields = fields | sort(attribute='column') -%}
{%- set customer_columns = [] -%}
{%- for f in fields if f.entity == 'customer' -%}
    {%- do customer_columns.append(golden_columns.get(f.field, f.field)) -%}
{%- endfor -%}
{%- set hashed_columns = ['external_id'] + (fields | map(attribute='column') | list) -%}
{%- set organization_field_keys = fields | selectattr('kind', 'equalto', 'organization_field') | map(attribute='key') | list -%}

with support_organizations as (

    select * from {{ ref('stg_support__organizations') }}

),

zendesk_field_definitions as (

    select field_key, is_active from {{ ref('stg_support__organization_fields') }}

),

party_matches as (

    select source_system, source_id, golden_id
    from {{ source('identity', 'party_matches') }}

),

golden_contracts as (

    select * from {{ ref('golden_contracts') }}

),

golden_customers as (

    select * from {{ ref('golden_customers') }}

),

-- which organization_fields keys Zendesk defines: a key it does not know would be dropped silently
zendesk_fields as (

    select
        {%- for key in organization_field_keys %}
        coalesce(max(case when field_key = '{{ key }}' and is_active then 1 else 0 end), 0) = 1 as has_{{ key }},
        {%- endfor %}
        count(*) as defined_field_count
    from zendesk_field_definitions

),

billing_linked as (

    select distinct golden_id
    from party_matches
    where source_system = 'billing'

),

-- the surviving values of the customer fields support takes
golden_fields as (

    select
        {%- for column in customer_columns %}
        {{ column }},
        {%- endfor %}
        support_organization_id,
        golden_customer_id as golden_id
    from golden_customers

),

-- what billing grants the golden customer over all its contracts
contract_summary as (

    select
        golden_customer_id,
        max(case when is_entitlement_contract then plan_code end) as plan_code,
        max(customer_support_entitlement) as support_entitlement,
        cast(nullif(sum(case when is_live then seats else 0 end), 0) as bigint) as live_seats,
        min(case when is_live then renewal_date end) as renewal_date,
        -- billing marks a subscription past_due / unpaid when its invoice is not paid in time
        case
            when max(case when is_live and status in ('past_due', 'unpaid') then 1 else 0 end) = 1 then 'delinquent'
            when max(case when is_live then 1 else 0 end) = 1 then 'current'
        end as payment_status
    from golden_contracts
    where golden_customer_id is not null
    group by golden_customer_id

),

sla_policies as (

    select support_entitlement, nullif(sla_policy, '') as sla_policy from {{ ref('sla_policies') }}

),

-- the billing account an organization is linked to (external_id): the one holding the best live
-- contract, else the one with the latest contract
primary_billing_accounts as (

    select golden_id, billing_customer_id
    from (
        select
            billing_matches.golden_id,
            billing_matches.source_id as billing_customer_id,
            row_number() over (
                partition by billing_matches.golden_id
                order by
                    coalesce(max(case when golden_contracts.is_entitlement_contract then 1 else 0 end), 0) desc,
                    max(golden_contracts.started_at) desc nulls last,
                    billing_matches.source_id
            ) as account_order
        from party_matches as billing_matches
        left join golden_contracts
            on golden_contracts.billing_customer_id = billing_matches.source_id
        where billing_matches.source_system = 'billing'
        group by billing_matches.golden_id, billing_matches.source_id
    ) as ranked
    where account_order = 1

),

existing_targets as (

    select
        support_matches.golden_id,
        support_organizations.support_organization_id,
        support_organizations.external_id as current_external_id,
        support_organizations.organization_name as current_name,
        support_organizations.domain_names as current_domain_names,
        support_organizations.organization_fields as current_organization_fields,
        -- the support survivor golden_customers shows; else the organization linked to the primary
        -- billing account, else any linked one, else the oldest
        row_number() over (
            partition by support_matches.golden_id
            order by
                case when golden_fields.support_organization_id = support_matches.source_id then 0 else 1 end,
                case when support_organizations.billing_customer_id = primary_billing_accounts.billing_customer_id then 0 else 1 end,
                case when support_organizations.billing_customer_id is not null then 0 else 1 end,
                support_organizations.created_at,
                support_organizations.support_organization_id
        ) = 1 as is_primary_organization
    from support_organizations
    inner join party_matches as support_matches
        on support_matches.source_system = 'support'
        and support_matches.source_id = cast(support_organizations.support_organization_id as {{ text_type }})
    inner join billing_linked
        on billing_linked.golden_id = support_matches.golden_id
    left join primary_billing_accounts
        on primary_billing_accounts.golden_id = support_matches.golden_id
    left join golden_fields
        on golden_fields.golden_id = support_matches.golden_id

),

new_targets as (

    -- golden customers billing grants support to, with no organization in Zendesk yet
    select
        contract_summary.golden_customer_id as golden_id,
        cast(null as bigint) as support_organization_id,
        cast(null as {{ text_type }}) as current_external_id,
        cast(null as {{ text_type }}) as current_name,
        cast(null as {{ text_type }}) as current_domain_names,
        cast(null as {{ text_type }}) as current_organization_fields,
        true as is_primary_organization
    from contract_summary
    where coalesce(contract_summary.support_entitlement, 'none') <> 'none'
        and not exists (
            select 1
            from party_matches as support_matches
            where support_matches.source_system = 'support'
                and support_matches.golden_id = contract_summary.golden_customer_id
        )

),

targets as (

    select * from existing_targets
    union all
    select * from new_targets

),

proposed as (

    select
        targets.golden_id as golden_customer_id,
        targets.support_organization_id,
        targets.current_external_id,
        targets.current_name,
        targets.current_domain_names,
        targets.current_organization_fields,
        targets.is_primary_organization,
        -- keep an organization's own external_id; link the ones without one to the billing account
        coalesce(targets.current_external_id, primary_billing_accounts.billing_customer_id) as external_id
        {%- for f in fields %},
        {%- if f.kind == 'organization_field' %}
        case when zendesk_fields.has_{{ f.key }} then cast({{ f.value }} as {{ f.data_type }}) end as {{ f.column }}
        {%- else %}
        -- top-level attributes are unique per organization in Zendesk: the primary organization only
        case when targets.is_primary_organization then cast({{ f.value }} as {{ f.data_type }}) end
            as {{ 'proposed_' if f.kind == 'name' else '' }}{{ f.column }}
        {%- endif %}
        {%- endfor %}
    from targets
    cross join zendesk_fields
    left join golden_fields
        on golden_fields.golden_id = targets.golden_id
    left join contract_summary
        on contract_summary.golden_customer_id = targets.golden_id
    left join sla_policies
        on sla_policies.support_entitlement = coalesce(contract_summary.support_entitlement, 'none')
    left join primary_billing_accounts
        on primary_billing_accounts.golden_id = targets.golden_id

),

{%- set name_fields = fields | selectattr('kind', 'equalto', 'name') | list %}
{%- if name_fields %}
{%- set name_column = name_fields[0].column %}

-- Zendesk organization names are unique case-insensitively: a proposed name another organization
-- holds (or another row proposes) would get the whole request rejected, entitlement fix included
organization_names as (

    select lower(organization_name) as name_key, count(*) as organization_count
    from support_organizations
    group by lower(organization_name)

),

name_checked as (

    select
        proposed.*,
        coalesce(
            proposed.proposed_{{ name_column }} is not null
            and (
                coalesce(organization_names.organization_count, 0)
                    - case when lower(proposed.current_name) = lower(proposed.proposed_{{ name_column }}) then 1 else 0 end > 0
                or count(*) over (partition by lower(proposed.proposed_{{ name_column }})) > 1
            ),
            false
        ) as has_name_conflict
    from proposed
    left join organization_names
        on organization_names.name_key = lower(proposed.proposed_{{ name_column }})

),

desired as (

    select
        name_checked.*,
        -- an update keeps its name on a conflict (the rest still goes through); an insert needs one
        case
            when name_checked.proposed_{{ name_column }} is not null
                and (not name_checked.has_name_conflict or name_checked.support_organization_id is null)
                then name_checked.proposed_{{ name_column }}
            else name_checked.current_name
        end as {{ name_column }}
    from name_checked

),
{%- else %}

desired as (

    select proposed.*, false as has_name_conflict
    from proposed

),
{%- endif %}

diffed as (

    select
        desired.*,
        nullif(concat_ws(',',
            case when desired.current_external_id is null and desired.external_id is not null then 'external_id' end
            {%- for f in fields %},
            {%- if f.kind == 'organization_field' %}
            case
                when zendesk_fields.has_{{ f.key }}
                    and cast(desired.{{ f.column }} as {{ text_type }}) is distinct from {{ syncline.json_text('desired.current_organization_fields', f.key) }}
                    then '{{ f.column }}'
            end
            {%- elif f.kind == 'name' %}
            case when desired.{{ f.column }} is distinct from desired.current_name then '{{ f.column }}' end
            {%- elif f.kind == 'domain_names' %}
            -- added when missing; the organization's other domains stay
            case
                when desired.{{ f.column }} is not null
                    and coalesce(desired.current_domain_names, '') not like '%"' || desired.{{ f.column }} || '"%'
                    then '{{ f.column }}'
            end
            {%- endif %}
            {%- endfor %}
        ), '') as changed_fields
    from desired
    cross join zendesk_fields

),

final as (

    select
        coalesce(
            cast(support_organization_id as {{ text_type }}),
            'external_id:' || external_id
        ) as record_key,
        golden_customer_id,
        support_organization_id,
        external_id,
        case
            when support_organization_id is null then 'insert'
            when changed_fields is not null then 'update'
            else 'noop'
        end as operation,
        is_primary_organization,
        {%- for f in fields %}
        {{ f.column }},
        {%- endfor %}
        changed_fields,
        has_name_conflict,
        -- hash of everything the sync writes, in a fixed order
        {{ syncline.record_hash(hashed_columns) }} as record_hash
    from diffed

)

select * from final
