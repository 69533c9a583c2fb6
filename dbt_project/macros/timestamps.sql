{#
  Canonical timestamps are `timestamp` (without time zone) holding UTC, on DuckDB and PostgreSQL
  alike, so pandas readers, pandera and the identity tables (naive UTC) compare without surprises.
#}

{# Epoch seconds (Stripe `created`, Zendesk `generated_timestamp`) -> UTC timestamp. `double precision`
   on purpose: dbt.type_float() is `float`, which DuckDB reads as a 4-byte REAL (minutes off). #}
{% macro epoch_to_timestamp(expression) -%}
    cast(to_timestamp(cast({{ expression }} as double precision)) at time zone 'UTC' as timestamp)
{%- endmacro %}


{# Epoch milliseconds -> UTC timestamp. #}
{% macro epoch_ms_to_timestamp(expression) -%}
    cast(to_timestamp(cast({{ expression }} as double precision) / 1000) at time zone 'UTC' as timestamp)
{%- endmacro %}


{# `timestamp with time zone` (how dlt types timestamps on both destinations) -> UTC timestamp. #}
{% macro tz_to_utc_timestamp(expression) -%}
    cast(({{ expression }}) at time zone 'UTC' as timestamp)
{%- endmacro %}


{# ISO 8601 text with an offset or a Z (e.g. from a JSON field) -> UTC timestamp. #}
{% macro iso_text_to_timestamp(expression) -%}
    cast(cast({{ expression }} as timestamp with time zone) at time zone 'UTC' as timestamp)
{%- endmacro %}


{#
  A raw column as a UTC timestamp, whatever dlt made of it: epoch numbers (the source kept the raw
  Stripe field as its incremental cursor), `timestamp with time zone` (a typed hint), a naive
  timestamp (taken as UTC), a date, or ISO text. A missing column gives a typed NULL.
#}
{% macro utc_timestamp(columns, name) -%}
    {%- set data_type = columns.get(name | lower) -%}
    {%- if data_type is none -%}
        cast(null as timestamp)
    {%- elif 'with time zone' in data_type or data_type == 'timestamptz' -%}
        {{ syncline.tz_to_utc_timestamp(name) }}
    {%- elif data_type.startswith('timestamp') or data_type == 'datetime' or data_type.startswith('date') -%}
        cast({{ name }} as timestamp)
    {%- elif data_type in ('bigint', 'integer', 'int', 'smallint', 'hugeint', 'int8', 'int4', 'double', 'double precision', 'real', 'float', 'ubigint', 'uinteger')
          or data_type.startswith('decimal') or data_type.startswith('numeric') -%}
        {{ syncline.epoch_to_timestamp(name) }}
    {%- else -%}
        {{ syncline.iso_text_to_timestamp(name) }}
    {%- endif -%}
{%- endmacro %}


{# Epoch seconds held in a JSON field (Stripe nested timestamps, e.g. status_transitions.paid_at). #}
{% macro json_epoch_to_timestamp(column, path) -%}
    {{ syncline.epoch_to_timestamp(dbt.safe_cast(syncline.json_text(column, path), 'bigint')) }}
{%- endmacro %}
