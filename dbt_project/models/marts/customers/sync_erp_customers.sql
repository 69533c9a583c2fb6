{#
  Desired state of Business Central customers, read by the reverse ETL: one row per golden customer
  that should exist in the ERP - it already has an ERP record, or it has a billing relationship (a
  subscription; prospects are not pushed).
    insert - no ERP record: the minimal set to create one (displayName, address, country, currency)
             plus every field the seed lets reach the ERP; erp_customer_number is the number other
             systems already reference, unless an existing ERP customer holds it (BC then assigns one).
    update - the ERP survivor differs on a field the ERP does not own (master_data_drift);
             `changed_fields` names them. Only seed-pushable columns are filled; the ERP-owned ones
             (displayName, address, country, ...) stay NULL, and NULL means "do not send".
    noop   - nothing differs; the same columns as an update, so the hash does not move when the ERP
             catches up.
  odata_etag is the ERP survivor's current ETag (If-Match for PATCH). record_hash = syncline.record_hash of
  the mapped columns.
#}

{%- set text = dbt.type_string() -%}
{%- set field_map = syncline.erp_customer_field_map() -%}
{%- set hashed = ['erp_customer_number'] -%}
{%- for entry in field_map -%}
    {%- for column, expression in entry.columns -%}
        {%- do hashed.append(column) -%}
    {%- endfor -%}
{%- endfor -%}
{%- do hashed.append('currency_code') -%}

with golden as (

    select * from {{ ref('golden_customers') }}

),

owners as (

    select * from {{ ref('account_owner_crosswalk') }}

),

erp_customers as (

    select * from {{ ref('stg_erp__customers') }}

),

drift as (

    select * from {{ ref('master_data_drift') }}
    where action = 'update_erp'

),

-- one row of flags: may field X be written into the ERP on an update? (the seed decides)
pushable as (

    select
        {%- for entry in field_map %}
        coalesce(max(case when field = '{{ entry.field }}' then 1 end), 0) = 1 as push_{{ entry.field }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ syncline.fields_received_by('erp') }} as erp_fields
    where entity = 'customer'

),

changes as (

    select
        golden_customer_id,
        {{ dbt.listagg('field', "','", 'order by field') }} as changed_fields
    from drift
    group by golden_customer_id

),

in_scope as (

    select golden.*
    from golden
    where golden.erp_customer_id is not null
        or golden.has_billing_relationship

),

desired as (

    select
        golden.golden_customer_id,
        golden.erp_customer_id,
        case
            when golden.erp_customer_id is not null then 'update'
            else 'insert'
        end as base_operation,
        case
            when golden.erp_customer_id is not null then erp.erp_customer_number
            -- a number nobody else holds: the one billing / CRM / support already reference
            when taken.erp_customer_id is null then golden.erp_customer_number
        end as erp_customer_number,
        {%- for entry in field_map %}
        {%- for column, expression in entry.columns %}
        case
            when golden.erp_customer_id is null then {{ 'cast(' ~ expression ~ ' as ' ~ text ~ ')' if entry.create else 'cast(null as ' ~ text ~ ')' }}
            when pushable.push_{{ entry.field }} then cast({{ expression }} as {{ text }})
        end as {{ column }},
        {%- endfor %}
        {%- endfor %}
        case when golden.erp_customer_id is null then golden.currency_code end as currency_code,
        case
            when golden.erp_customer_id is null
                then golden.currency_code = '{{ var("erp_local_currency_code") }}'
        end as is_local_currency,
        changes.changed_fields,
        erp.odata_etag,
        erp.last_modified_at as erp_last_modified_at
    from in_scope as golden
    cross join pushable
    left join owners
        on owners.crm_owner_id = golden.account_owner
    left join erp_customers as erp
        on erp.erp_customer_id = golden.erp_customer_id
    left join erp_customers as taken
        on taken.erp_customer_number = golden.erp_customer_number
    left join changes
        on changes.golden_customer_id = golden.golden_customer_id

)

select
    golden_customer_id,
    erp_customer_id,
    erp_customer_number,
    case
        when base_operation = 'insert' then 'insert'
        when changed_fields is not null then 'update'
        else 'noop'
    end as operation,
    changed_fields,
    {%- for column in hashed if column not in ['erp_customer_number', 'currency_code'] %}
    {{ column }},
    {%- endfor %}
    currency_code,
    is_local_currency,
    odata_etag,
    erp_last_modified_at,
    {{ syncline.record_hash(hashed) }} as record_hash
from desired
