{#
  Incremental filter on dlt's load id. Every row dlt writes (or re-writes on merge) carries the id of
  the load that wrote it, an epoch-seconds string such as '1795632140.342339'; ids grow with time, so
  rows with a load id above the highest one already in this model are the new or changed ones.
  Compared as numbers: the fraction has no fixed width.
#}
{% macro dlt_load_id_value(column='_dlt_load_id') -%}
    cast({{ column }} as decimal(20, 6))
{%- endmacro %}

{#- Column names of the table as built ({{ this }}), lower case. -#}
{% macro built_columns() -%}
    {{ return(adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) }}
{%- endmacro %}

{% macro new_dlt_loads_only(column='_dlt_load_id', this_column='_dlt_load_id') -%}
    {#- a table built before it had the cursor column (an upgrade) gets every row again -#}
    {%- if is_incremental() and this_column in syncline.built_columns() -%}
        {{ syncline.dlt_load_id_value(column) }} > (
            select coalesce(max({{ syncline.dlt_load_id_value(this_column) }}), 0) from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#
  Pre-hook of incremental models keyed on a fingerprint of their inputs: deletes the rows of {{ this }}
  whose key columns (an id and its fingerprint) no longer appear in `current_sql` - the entity changed
  or went away. The model then inserts the entities that have no rows left. Nothing on a first build.
#}
{% macro delete_outdated_rows(current_sql, columns) -%}
    {%- if is_incremental() -%}
        {%- if columns | reject('in', syncline.built_columns()) | list %}
        -- built before these columns existed: every row is outdated
        delete from {{ this }}
        {%- else %}
        delete from {{ this }} as outdated
        where not exists (
            select 1 from ({{ current_sql }}) as current_rows
            where {% for column in columns -%}
                current_rows.{{ column }} = outdated.{{ column }}{{ ' and ' if not loop.last }}
            {%- endfor %}
        )
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#
  Post-hook of incremental models on dlt load ids whose rows leave the list by a flag (a deleted
  billing customer, an archived CRM company or contact, a Zendesk user who became staff): such a row
  is not in the incremental batch, so delete+insert would keep its old version. `unlisted` holds
  (source_system, id column, relation, condition) per system; keys are '<source_system>:<id>'.
#}
{% macro delete_unlisted(key_column, unlisted) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key_column }} in (
            {%- for system, id_column, relation, condition in unlisted %}
            select {{ dbt.concat(["'" ~ system ~ ":'", 'cast(' ~ id_column ~ ' as ' ~ dbt.type_string() ~ ')']) }}
            from {{ relation }}
            where {{ condition }}
            {{- '\n            union all' if not loop.last }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}
