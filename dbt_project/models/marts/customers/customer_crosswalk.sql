{#
  One row per source party record with the golden customer it resolved to, how it matched, and the
  record's own identifying values as its system holds them, so that every golden choice can be
  explained from here. `is_system_survivor` marks the one record per (golden customer, system) that
  stands for the system when it holds duplicates (the id golden_customers shows for that system).
#}

{%- set text = dbt.type_string() -%}

with party_records as (

    select * from {{ ref('int_party_records') }}

),

party_matches as (

    select * from {{ source('identity', 'party_matches') }}

),

references_to_records as (

    select * from {{ ref('int_party_references') }}

),

attribute_records as (

    select * from {{ ref('int_customer_attribute_records') }}

),

-- Records other systems point at (ERP number, Stripe id) are the ones people work with: they survive.
inbound_references as (

    select
        target_party_record_id as party_record_id,
        count(distinct party_record_id) as inbound_reference_count
    from references_to_records
    where is_resolved
        and target_party_record_id is not null
    group by target_party_record_id

),

joined as (

    select
        party_records.party_record_id,
        party_records.source_system,
        party_records.source_id,
        party_matches.golden_id as golden_customer_id,
        party_matches.match_rule,
        cast(party_matches.match_probability as numeric(9, 6)) as match_probability,
        cast(party_matches.first_seen_at as timestamp) as first_seen_at,
        cast(party_matches.last_seen_at as timestamp) as last_seen_at,
        party_records.name,
        party_records.email,
        party_records.phone,
        party_records.domain,
        party_records.tax_id,
        party_records.country as country_code,
        party_records.city,
        party_records.erp_customer_number,
        party_records.billing_customer_id,
        party_records.currency_code,
        party_records.source_created_at,
        party_records.source_updated_at,
        cast(coalesce(inbound_references.inbound_reference_count, 0) as bigint) as inbound_reference_count,
        cast(coalesce(attribute_records.populated_field_count, 0) as bigint) as populated_field_count
    from party_records
    left join party_matches
        on party_matches.source_system = party_records.source_system
        and party_matches.source_id = party_records.source_id
    left join inbound_references
        on inbound_references.party_record_id = party_records.party_record_id
    left join attribute_records
        on attribute_records.party_record_id = party_records.party_record_id

),

ranked as (

    select
        joined.*,
        -- survivor inside one system: most referenced, then most complete, then oldest, then newest
        -- change; the record id makes the choice deterministic
        row_number() over (
            partition by golden_customer_id, source_system
            order by
                inbound_reference_count desc,
                populated_field_count desc,
                source_created_at asc nulls last,
                source_updated_at desc nulls last,
                source_id
        ) as system_rank,
        count(*) over (partition by golden_customer_id, source_system) as system_record_count
    from joined

)

select
    party_record_id,
    source_system,
    source_id,
    golden_customer_id,
    match_rule,
    match_probability,
    first_seen_at,
    last_seen_at,
    name,
    email,
    phone,
    domain,
    tax_id,
    country_code,
    city,
    erp_customer_number,
    billing_customer_id,
    currency_code,
    source_created_at,
    source_updated_at,
    inbound_reference_count,
    populated_field_count,
    cast(system_record_count as bigint) as system_record_count,
    system_rank = 1 as is_system_survivor
from ranked
