{# Layer schemas are named exactly `staging`, `intermediate`, `marts` (not `<target>_marts`), so
   analysts and the Dagster asset keys see stable names on DuckDB and PostgreSQL alike. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
