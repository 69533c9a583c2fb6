{#
  Where the ERP customer master disagrees with the golden customer on a field the ERP does not own
  and the ownership seed lets flow into the ERP (owner_system <> 'erp', 'erp' in sync_targets): one
  row per (ERP customer record, field). Values are compared normalised (case, phone punctuation), so
  formatting alone is not drift; a golden value that is missing never blanks the ERP's.
  The ERP survivor of a golden customer gets action update_erp (sync_erp_customers pushes it); a
  duplicate ERP record of the same customer is reported for review, never written.
#}

{%- set text = dbt.type_string() -%}
{%- set field_map = syncline.erp_customer_field_map() -%}

with crosswalk as (

    select * from {{ ref('customer_crosswalk') }}
    where source_system = 'erp'

),

golden as (

    select * from {{ ref('golden_customers') }}

),

attributes as (

    select * from {{ ref('golden_customer_attributes') }}

),

erp_customers as (

    select * from {{ ref('stg_erp__customers') }}

),

owners as (

    select * from {{ ref('account_owner_crosswalk') }}

),

-- the seed decides which fields the ERP must follow
erp_bound_fields as (

    select field, owner_system
    from {{ ref('field_ownership') }}
    where entity = 'customer'
        and owner_system <> 'erp'
        and {{ dbt.concat(["'|'", "coalesce(sync_targets, '')", "'|'"]) }} like '%|erp|%'

),

erp_records as (

    select
        crosswalk.golden_customer_id,
        crosswalk.is_system_survivor,
        erp_customers.*
    from crosswalk
    inner join erp_customers
        on erp_customers.erp_customer_id = crosswalk.source_id

),

-- every mapped field of every ERP record, as text; the mapping's expressions read `erp`, `golden`
-- and `owners`
compared as (
    {%- for entry in field_map %}

    select
        erp.golden_customer_id,
        erp.erp_customer_id,
        erp.erp_customer_number,
        erp.is_system_survivor,
        erp.odata_etag,
        erp.last_modified_at as erp_last_modified_at,
        '{{ entry.field }}' as field,
        '{{ entry.property }}' as erp_property,
        cast({{ entry.erp }} as {{ text }}) as erp_value,
        cast({{ syncline.erp_golden_text(entry) }} as {{ text }}) as golden_value,
        {{ syncline.erp_compare_value(entry.erp, entry.compare) }} as erp_compare,
        {{ syncline.erp_compare_value(syncline.erp_golden_text(entry), entry.compare) }} as golden_compare
    from erp_records as erp
    inner join golden
        on golden.golden_customer_id = erp.golden_customer_id
    left join owners
        on owners.crm_owner_id = golden.account_owner
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

)

select
    {{ dbt.concat(['compared.erp_customer_id', "':'", 'compared.field']) }} as drift_id,
    compared.erp_customer_id,
    compared.erp_customer_number,
    compared.golden_customer_id,
    compared.field,
    compared.erp_property,
    compared.erp_value,
    compared.golden_value,
    attributes.source_system as golden_source,
    attributes.party_record_id as golden_party_record_id,
    erp_bound_fields.owner_system,
    case when compared.is_system_survivor then 'update_erp' else 'review_duplicate' end as action,
    compared.is_system_survivor as is_erp_survivor,
    compared.odata_etag,
    compared.erp_last_modified_at
from compared
inner join erp_bound_fields
    on erp_bound_fields.field = compared.field
left join attributes
    on attributes.golden_customer_id = compared.golden_customer_id
    and attributes.field = compared.field
where compared.golden_compare is not null
    and (compared.erp_compare is null or compared.erp_compare <> compared.golden_compare)
