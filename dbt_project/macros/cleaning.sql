{# Small, portable cleaning expressions shared by the staging models. #}

{# Trimmed text; empty or blank strings become NULL (ERP defaults are '' rather than NULL). #}
{% macro clean_text(expression) -%}
    nullif(trim(cast({{ expression }} as {{ dbt.type_string() }})), '')
{%- endmacro %}


{# Lower-cased, trimmed e-mail; NULL when it has no '@'. #}
{% macro clean_email(expression) -%}
    case
        when position('@' in trim({{ expression }})) > 1 then lower(trim({{ expression }}))
    end
{%- endmacro %}


{# Domain part of an e-mail address (lower case). #}
{% macro email_domain(expression) -%}
    case
        when position('@' in trim({{ expression }})) > 1
            then nullif(lower({{ syncline.regexp_group('trim(' ~ expression ~ ')', '@([^@]+)$', 1) }}), '')
    end
{%- endmacro %}


{#
  Host name of a web domain, URL or website field: lower case, without scheme, 'www.', path,
  port or trailing dot. NULL when nothing domain-like is left.
#}
{% macro normalize_domain(expression) -%}
    {%- set step1 = "lower(trim(cast(" ~ expression ~ " as " ~ dbt.type_string() ~ ")))" -%}
    {%- set step2 = "regexp_replace(" ~ step1 ~ ", '^[a-z][a-z0-9+.-]*://', '')" -%}
    {%- set step3 = "regexp_replace(" ~ step2 ~ ", '[/?#:].*$', '')" -%}
    {%- set step4 = "regexp_replace(" ~ step3 ~ ", '^www[0-9]*[.]', '')" -%}
    {%- set step5 = "regexp_replace(" ~ step4 ~ ", '[.]+$', '')" -%}
    case when {{ step5 }} like '%_._%' then {{ step5 }} end
{%- endmacro %}


{# Upper-case 3-letter ISO 4217 code, NULL when blank. #}
{% macro currency_code(expression) -%}
    upper(nullif(trim({{ expression }}), ''))
{%- endmacro %}


{# Lookup key into the `country_codes` seed: lower case, trimmed, dots and commas dropped. #}
{% macro country_key(expression) -%}
    nullif(replace(replace(lower(trim({{ expression }})), '.', ''), ',', ''), '')
{%- endmacro %}


{#
  ISO alpha-2 country of a value as a system typed it: the `country_codes` seed's code found through
  country_key(raw), else a 2-letter value upper-cased (a code the seed may not list), else NULL.
#}
{% macro resolved_country_code(lookup_code, raw) -%}
    coalesce(
        {{ lookup_code }},
        case when length({{ raw }}) = 2 then upper({{ raw }}) end
    )
{%- endmacro %}


{#
  Stripe amounts are integers in the currency's minor unit: cents for most currencies, the unit
  itself for zero-decimal currencies (JPY, KRW, ...) and 1/1000 for three-decimal ones (BHD, ...).
  Returns decimal major units (https://docs.stripe.com/currencies#zero-decimal).
#}
{% macro minor_to_major(amount, currency) -%}
    cast(
        case
            when lower({{ currency }}) in ('bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg',
                                           'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf')
                then cast({{ amount }} as decimal(18, 2))
            when lower({{ currency }}) in ('bhd', 'jod', 'kwd', 'omr', 'tnd')
                then cast({{ amount }} as decimal(18, 2)) / 1000
            else cast({{ amount }} as decimal(18, 2)) / 100
        end
    as {{ syncline.money_type() }})
{%- endmacro %}


{# The canonical money type: decimal major units. #}
{% macro money_type() -%}
    decimal(18, 2)
{%- endmacro %}


{# Capture group `group` of the first match of a regular expression, NULL when it does not match. #}
{% macro regexp_group(expression, pattern, group) -%}
    {{ return(adapter.dispatch('regexp_group', 'syncline')(expression, pattern, group)) }}
{%- endmacro %}

{% macro duckdb__regexp_group(expression, pattern, group) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', {{ group }}), '')
{%- endmacro %}

{% macro default__regexp_group(expression, pattern, group) -%}
    (regexp_match({{ expression }}, '{{ pattern }}'))[{{ group }}]
{%- endmacro %}


{# Booleans from JSON text ('true'/'false') or text flags. #}
{% macro text_to_boolean(expression) -%}
    case lower(trim({{ expression }})) when 'true' then true when 'false' then false end
{%- endmacro %}
