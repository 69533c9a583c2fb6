{#
  Incremental filter on dlt's load id. Every row dlt writes (or re-writes on merge) carries the id of
  the load that wrote it, an epoch-seconds string such as '1795632140.342339'; ids grow with time, so
  rows with a load id above the highest one already in this model are the new or changed ones.
  Compared as numbers: the fraction has no fixed width.
#}
{% macro dlt_load_id_value(column='_dlt_load_id') -%}
    cast({{ column }} as decimal(20, 6))
{%- endmacro %}

{% macro new_dlt_loads_only(column='_dlt_load_id', this_column='_dlt_load_id') -%}
    {%- if is_incremental() -%}
        {{ syncline.dlt_load_id_value(column) }} > (
            select coalesce(max({{ syncline.dlt_load_id_value(this_column) }}), 0) from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
