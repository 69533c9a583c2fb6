{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ syncline.delete_outdated_rows(
            'select party_record_id, attributes_fingerprint from ' ~ ref('int_customer_attribute_records'),
            ['party_record_id', 'attributes_fingerprint'],
        ) }}"
    )
}}
{#
  Survivorship input for the golden customer: one row per (party record, customer field) holding a
  value, in the field vocabulary of the field ownership seed (entity = customer); golden_customer_attributes
  ranks them by that seed. The address parts of a field = 'address' row win together
  (address_line1 .. country_code).
  Incremental on the records' attribute fingerprints: the pre-hook deletes the rows of records that
  changed or went away, and only records without rows are unpivoted again.
#}

{%- set fields = syncline.customer_attribute_fields() -%}

with records as (

    select * from {{ ref('int_customer_attribute_records') }} as records
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as built where built.party_record_id = records.party_record_id
    )
    {%- endif %}

),

{#- One scan: every field as a column, unpivoted by a cross join with the field names (portable:
    VALUES works on DuckDB and PostgreSQL). Fields a system does not hold are NULL and drop out. #}
candidates as (

    select
        records.party_record_id,
        records.source_system,
        records.source_id,
        field_names.field,
        case field_names.field
            {%- for field in fields %}
            when '{{ field }}' then records.{{ field }}
            {%- endfor %}
            when 'address' then {{ dbt.concat([
                'records.address_line1',
                "coalesce(', ' || records.address_line2, '')",
                "coalesce(', ' || records.postal_code, '')",
                "coalesce(', ' || records.city, '')",
                "coalesce(', ' || records.region, '')",
                "coalesce(', ' || records.country_code, '')",
            ]) }}
        end as value,
        {%- for part in syncline.customer_address_parts() %}
        case when field_names.field = 'address' then records.{{ part }} end as {{ part }},
        {%- endfor %}
        records.source_updated_at,
        records.attributes_fingerprint
    from records
    cross join (values {% for field in fields + ['address'] %}('{{ field }}'){{ ', ' if not loop.last }}{% endfor %}) as field_names (field)

)

select
    {{ dbt.concat(['source_system', "':'", 'source_id', "':'", 'field']) }} as candidate_id,
    party_record_id,
    source_system,
    source_id,
    field,
    value,
    address_line1,
    address_line2,
    city,
    postal_code,
    region,
    country_code,
    source_updated_at,
    attributes_fingerprint
from candidates
where value is not null
