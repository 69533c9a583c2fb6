{#
  JSON extraction that runs unchanged on DuckDB and PostgreSQL.

  dlt stores nested objects as JSON columns (max_table_nesting=0): DuckDB `JSON`, PostgreSQL `jsonb`.
  `path` is a dotted string ('address.line1') or a list whose integer items are array indexes
  (['lines', 'data', 0, 'id']). Every macro returns text (or NULL for a missing key or a JSON null).
#}

{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'syncline')(column, _json_path_parts(path))) }}
{%- endmacro %}

{% macro duckdb__json_text(column, parts) -%}
    json_extract_string({{ column }}, '{{ _duckdb_json_path(parts) }}')
{%- endmacro %}

{% macro default__json_text(column, parts) -%}
    (cast({{ column }} as jsonb) #>> '{ {{- parts | join(',') -}} }')
{%- endmacro %}


{# The JSON value at `path` as JSON (an object or array to pass on, e.g. to json_array_length). #}
{% macro json_value(column, path) -%}
    {{ return(adapter.dispatch('json_value', 'syncline')(column, _json_path_parts(path))) }}
{%- endmacro %}

{% macro duckdb__json_value(column, parts) -%}
    json_extract({{ column }}, '{{ _duckdb_json_path(parts) }}')
{%- endmacro %}

{% macro default__json_value(column, parts) -%}
    (cast({{ column }} as jsonb) #> '{ {{- parts | join(',') -}} }')
{%- endmacro %}


{# Number of elements of a JSON array (NULL when the column is NULL). #}
{% macro json_array_length(column) -%}
    {{ return(adapter.dispatch('json_array_length', 'syncline')(column)) }}
{%- endmacro %}

{% macro duckdb__json_array_length(column) -%}
    json_array_length({{ column }})
{%- endmacro %}

{% macro default__json_array_length(column) -%}
    jsonb_array_length(cast({{ column }} as jsonb))
{%- endmacro %}


{# A JSON column as its text (to keep a raw JSON value in a staging model, portable and comparable). #}
{% macro json_as_text(column) -%}
    cast({{ column }} as {{ dbt.type_string() }})
{%- endmacro %}


{# -- helpers ------------------------------------------------------------------------------------ #}
{% macro _json_path_parts(path) -%}
    {%- if path is string -%}
        {%- set parts = path.split('.') -%}
    {%- else -%}
        {%- set parts = path -%}
    {%- endif -%}
    {{ return(parts) }}
{%- endmacro %}

{% macro _duckdb_json_path(parts) -%}
    {%- set out = ['$'] -%}
    {%- for part in parts -%}
        {%- if part is number -%}
            {%- do out.append('[' ~ part ~ ']') -%}
        {%- else -%}
            {%- do out.append('."' ~ part ~ '"') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out | join('')) }}
{%- endmacro %}


{#
  Sum of the integer `field` over the elements of a JSON array, e.g. the Stripe `tax_amounts` or
  `discount_amounts` of an invoice line. Portable without unnesting: reads the first
  `max_elements` elements (Stripe lists a handful at most); NULL only when the column is NULL.
#}
{% macro json_array_sum(column, field, max_elements=10) -%}
    case when {{ column }} is not null then (
        {%- for i in range(max_elements) %}
        coalesce(cast({{ syncline.json_text(column, [i, field]) }} as bigint), 0){% if not loop.last %} +{% endif %}
        {%- endfor %}
    ) end
{%- endmacro %}
