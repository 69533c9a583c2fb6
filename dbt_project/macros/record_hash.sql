{#
  The change hash of an outbound row, one definition for every sync model (the reverse ETL diffs it
  against what it last wrote). Portable: DuckDB and PostgreSQL hash the same bytes.

  Each column is cast to text; NULL becomes the sentinel chr(30) (ASCII record separator), so NULL
  and '' differ; the parts are joined with chr(31) (ASCII unit separator), which no text value holds,
  so moving text between neighbouring columns changes the hash. record_hash is the lower-case hex MD5
  of that text's UTF-8 bytes. In Python:
      hashlib.md5("\x1f".join("\x1e" if v is None else str(v) for v in values).encode()).hexdigest()
  Text, integers, decimals, booleans ('true'/'false'), dates and timestamps (without time zone) cast
  the same way on both warehouses; cast floating point and JSON values yourself before hashing them.
#}

{% macro record_hash(columns) -%}
    {{ dbt.hash(syncline.record_hash_text(columns)) }}
{%- endmacro %}


{# The text record_hash hashes (to look at when two hashes differ). #}
{% macro record_hash_text(columns) -%}
    {%- if columns is string or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("record_hash takes a non-empty list of columns, got " ~ columns) }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), chr(30))") -%}
    {%- endfor -%}
    ({{ parts | join(" || chr(31) || ") }})
{%- endmacro %}
