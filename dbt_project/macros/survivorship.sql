{#-
  The customer fields of the field_ownership seed (entity = customer) that party records hold, as
  int_customer_attribute_records' columns and int_customer_attribute_candidates' field names; the
  `address` field is built from the address parts, which win together.
-#}
{% macro customer_attribute_fields() -%}
    {{ return([
        'legal_name', 'display_name', 'domain', 'tax_id', 'country', 'phone', 'billing_email',
        'account_owner', 'industry', 'erp_customer_number', 'credit_limit', 'payment_terms', 'lifecycle_status',
    ]) }}
{%- endmacro %}

{% macro customer_address_parts() -%}
    {{ return(['address_line1', 'address_line2', 'city', 'postal_code', 'region', 'country_code']) }}
{%- endmacro %}

{#
  One row per golden customer with a fingerprint of everything its survivorship reads: which records
  it holds, each record's attribute fingerprint (int_customer_attribute_records), the crosswalk's
  survivor flag and completeness for it, and the customer rows of the field_ownership seed. Equal
  fingerprints mean golden_customer_attributes would choose the same winners, so incremental builds
  recompute only the golden customers whose fingerprint changed.
#}
{% macro golden_customer_survivorship_fingerprints() -%}
    {%- set text = dbt.type_string() -%}
    select
        crosswalk.golden_customer_id,
        {{ dbt.hash(dbt.concat([
            dbt.listagg(
                dbt.concat([
                    'crosswalk.party_record_id',
                    "':'", "coalesce(records.attributes_fingerprint, '-')",
                    "':'", "case when crosswalk.is_system_survivor then 's' else 'd' end",
                    "':'", 'cast(crosswalk.populated_field_count as ' ~ text ~ ')',
                ]),
                "','",
                'order by crosswalk.party_record_id',
            ),
            "'|'",
            'ownership.rules',
        ])) }} as survivorship_fingerprint
    from {{ ref('customer_crosswalk') }} as crosswalk
    left join {{ ref('int_customer_attribute_records') }} as records
        on records.party_record_id = crosswalk.party_record_id
    cross join (
        select {{ dbt.listagg(
            dbt.concat(['field', "':'", 'owner_system', "':'", "coalesce(fallback_order, '')"]),
            "','",
            'order by field',
        ) }} as rules
        from {{ ref('field_ownership') }}
        where entity = 'customer'
    ) as ownership
    group by crosswalk.golden_customer_id, ownership.rules
{%- endmacro %}
