{#
  How golden customer fields map onto a Business Central customer card (the ERP adapter; ownership is
  NOT decided here). master_data_drift compares, and sync_erp_customers pushes, exactly the fields the
  field_ownership seed lets reach the ERP (owner_system <> 'erp' and 'erp' in sync_targets); the
  `create` entries also fill a new ERP customer. Each entry:
    field      - field of the ownership seed
    property   - BC API property (documentation; the sync columns are its snake_case form)
    columns    - [(sync column, expression over `golden` / `owners`)]: the values to write
    erp        - the ERP's current value as text, over `erp` (stg_erp__customers)
    compare    - text | phone | code: how values are normalised before comparing
  An address compares as its parts joined with ', '.
#}
{% macro erp_customer_field_map() %}
    {{ return([
        {'field': 'legal_name', 'property': 'displayName', 'compare': 'text', 'create': true,
         'columns': [('display_name', 'golden.legal_name')],
         'erp': 'erp.customer_name'},
        {'field': 'address', 'property': 'addressLine1, addressLine2, city, state, postalCode', 'compare': 'text', 'create': true,
         'columns': [('address_line1', 'golden.address_line1'), ('address_line2', 'golden.address_line2'),
                     ('city', 'golden.city'), ('state', 'golden.region'), ('postal_code', 'golden.postal_code')],
         'erp': "erp.address_line1 || coalesce(', ' || erp.address_line2, '') || coalesce(', ' || erp.city, '') || coalesce(', ' || erp.region, '') || coalesce(', ' || erp.postal_code, '')"},
        {'field': 'country', 'property': 'country', 'compare': 'code', 'create': true,
         'columns': [('country', 'golden.country_code')],
         'erp': 'erp.country_code'},
        {'field': 'billing_email', 'property': 'email', 'compare': 'text', 'create': true,
         'columns': [('email', 'golden.billing_email')],
         'erp': 'erp.email'},
        {'field': 'phone', 'property': 'phoneNumber', 'compare': 'phone', 'create': true,
         'columns': [('phone_number', 'golden.phone')],
         'erp': 'erp.phone'},
        {'field': 'domain', 'property': 'website', 'compare': 'text', 'create': true,
         'columns': [('website', 'golden.domain')],
         'erp': 'erp.domain'},
        {'field': 'account_owner', 'property': 'salespersonCode', 'compare': 'code', 'create': true,
         'columns': [('salesperson_code', 'owners.erp_salesperson_code')],
         'erp': 'erp.salesperson_code'},
    ]) }}
{% endmacro %}


{# A value normalised for comparison: formatting differences are not drift. #}
{% macro erp_compare_value(expression, kind) -%}
    {%- if kind == 'phone' -%}
        nullif(regexp_replace(lower({{ expression }}), '[^0-9x]', '', 'g'), '')
    {%- elif kind == 'code' -%}
        upper(trim({{ expression }}))
    {%- else -%}
        lower(trim({{ expression }}))
    {%- endif -%}
{%- endmacro %}


{# The sync columns' value of an entry as one text (an address: its parts joined with ', '). #}
{% macro erp_golden_text(entry) -%}
    {%- if entry.columns | length == 1 -%}
        {{ entry.columns[0][1] }}
    {%- else -%}
        {%- set parts = [] -%}
        {%- for column, expression in entry.columns -%}
            {%- if loop.first -%}
                {%- do parts.append(expression) -%}
            {%- else -%}
                {%- do parts.append("coalesce(', ' || " ~ expression ~ ", '')") -%}
            {%- endif -%}
        {%- endfor -%}
        {{ parts | join(' || ') }}
    {%- endif -%}
{%- endmacro %}
