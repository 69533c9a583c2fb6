{#
  Raw tables are loaded by dlt, which only materialises a column once some row had a value for it
  (a field that is NULL everywhere, say Stripe `customer.phone` in a small account, has no column
  yet). Staging models read optional fields through these macros so they compile either way, with
  the same output columns and types.
#}

{# {column name (lower case): data type (lower case)} of a relation; {} while dbt only parses. #}
{% macro relation_columns(relation) -%}
    {%- set columns = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do columns.update({column.name | lower: column.data_type | lower}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}


{# The column if the relation has it, else a typed NULL. `columns` comes from relation_columns(). #}
{% macro column_or_null(columns, name, data_type) -%}
    {%- if name | lower in columns -%}
        {{ name }}
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}


{# JSON text at `path` of a JSON column that may be absent. #}
{% macro json_text_or_null(columns, name, path) -%}
    {%- if name | lower in columns -%}
        {{ syncline.json_text(name, path) }}
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{# Length of a JSON array column that may be absent (0 when absent or NULL). #}
{% macro json_array_length_or_zero(columns, name) -%}
    {%- if name | lower in columns -%}
        cast(coalesce({{ syncline.json_array_length(name) }}, 0) as bigint)
    {%- else -%}
        cast(0 as bigint)
    {%- endif -%}
{%- endmacro %}
