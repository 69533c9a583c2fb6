{#
  Duplicate customer record rate (a KPI of the brief), one row per identity run. A duplicate is a
  second record of the same golden customer inside ONE system; the same customer in four systems is
  not a duplicate. Per system: 1 - golden customers with a record there / records there; overall:
  the same over the sum of the systems.
#}

{%- set systems = ['billing', 'crm', 'erp', 'support'] -%}

with crosswalk as (

    select * from {{ ref('customer_crosswalk') }}

),

per_system as (

    select
        source_system,
        count(*) as record_count,
        count(distinct golden_customer_id) as golden_customer_count
    from crosswalk
    group by source_system

),

totals as (

    select
        {%- for system in systems %}
        coalesce(sum(case when source_system = '{{ system }}' then record_count end), 0) as {{ system }}_record_count,
        coalesce(sum(case when source_system = '{{ system }}' then golden_customer_count end), 0) as {{ system }}_golden_customer_count,
        {%- endfor %}
        coalesce(sum(record_count), 0) as source_record_count,
        coalesce(sum(golden_customer_count), 0) as system_golden_customer_count
    from per_system

),

overall as (

    select
        count(distinct golden_customer_id) as golden_customer_count,
        max(last_seen_at) as measured_at
    from crosswalk

)

select
    cast(overall.measured_at as timestamp) as measured_at,
    cast(totals.source_record_count as bigint) as source_record_count,
    cast(overall.golden_customer_count as bigint) as golden_customer_count,
    cast(totals.source_record_count - totals.system_golden_customer_count as bigint) as duplicate_record_count,
    cast(
        case when totals.source_record_count > 0
            then 1.0 - 1.0 * totals.system_golden_customer_count / totals.source_record_count
        end as numeric(9, 6)
    ) as duplicate_record_rate,
    cast(
        case when overall.golden_customer_count > 0
            then 1.0 * totals.source_record_count / overall.golden_customer_count
        end as numeric(9, 4)
    ) as records_per_golden_customer,
    {%- for system in systems %}
    cast(totals.{{ system }}_record_count as bigint) as {{ system }}_record_count,
    cast(totals.{{ system }}_golden_customer_count as bigint) as {{ system }}_golden_customer_count,
    cast(totals.{{ system }}_record_count - totals.{{ system }}_golden_customer_count as bigint) as {{ system }}_duplicate_record_count,
    cast(
        case when totals.{{ system }}_record_count > 0
            then 1.0 - 1.0 * totals.{{ system }}_golden_customer_count / totals.{{ system }}_record_count
        end as numeric(9, 6)
    ) as {{ system }}_duplicate_record_rate{{ ',' if not loop.last }}
    {%- endfor %}
from totals
cross join overall
